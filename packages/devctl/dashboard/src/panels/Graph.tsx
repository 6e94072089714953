import { useEffect, useState } from 'react';
import { type GraphReport, get, type StatusReport } from '../api';

/** Re-read when the states change (a status snapshot), so the graph's states stay live. */
export function Graph({ status }: { status: StatusReport | null }) {
  const [graph, setGraph] = useState<GraphReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const states = status?.services.map((s) => `${s.name}:${s.status}`).join(',');

  useEffect(() => {
    get<GraphReport>('/api/graph')
      .then((g) => {
        setGraph(g);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [states]);

  if (error) return <p className="problem">{error}</p>;
  if (!graph) return <p className="muted">reading the graph...</p>;
  const chain = graph.criticalChain;
  return (
    <section className="graph">
      <ul>
        {graph.nodes.map((node) => (
          <li key={node.name} data-node={node.name} className={node.critical ? 'critical' : undefined}>
            <strong>{node.name}</strong>{' '}
            <span className={node.state === 'online' ? 'good' : 'idle'}>{node.state}</span>
            {node.startup?.launchToHealthyMs != null && (
              <span className="muted"> {node.startup.launchToHealthyMs} ms to healthy</span>
            )}
            {node.dependsOn.length > 0 ? (
              <span className="muted"> waits on {node.dependsOn.join(', ')}</span>
            ) : (
              <span className="muted"> (no dependencies)</span>
            )}
            {node.missingDependencies.length > 0 && (
              <span className="bad"> missing: {node.missingDependencies.join(', ')}</span>
            )}
          </li>
        ))}
      </ul>
      <p data-testid="critical-chain">
        {chain
          ? `critical chain: ${chain.links.map((l) => l.name).join(' → ')} (${chain.totalMs} ms)`
          : 'no start-up recorded yet: devctl start --wait records the timings'}
      </p>
      {graph.cycles.length > 0 && (
        <p className="bad">cycles: {graph.cycles.map((c) => c.join(' → ')).join('; ')}</p>
      )}
    </section>
  );
}
