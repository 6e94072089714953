// The dashboard: one live connection (server-sent events) feeds the services table and the log
// panel; the graph, findings and traces are read when their panel is shown (and on demand).
import { useEffect, useState } from 'react';
import { type DashboardLogLine, events, type StatusReport } from './api';
import { Findings } from './panels/Findings';
import { Graph } from './panels/Graph';
import { Logs } from './panels/Logs';
import { Services } from './panels/Services';
import { Traces } from './panels/Traces';

const PANELS = ['services', 'graph', 'logs', 'findings', 'traces'] as const;
type Panel = (typeof PANELS)[number];

function panelOfHash(): Panel {
  const name = window.location.hash.slice(1).split('=')[0];
  if (name === 'trace') return 'traces';
  return (PANELS as readonly string[]).includes(name ?? '') ? (name as Panel) : 'services';
}

export function App() {
  const [panel, setPanel] = useState<Panel>(panelOfHash);
  const [status, setStatus] = useState<StatusReport | null>(null);
  const [live, setLive] = useState<'connecting' | 'live' | 'lost'>('connecting');
  const [problem, setProblem] = useState<string | null>(null);
  const [liveLines, setLiveLines] = useState<DashboardLogLine[]>([]);
  const [snapshots, setSnapshots] = useState(0);

  useEffect(() => {
    const onHash = () => setPanel(panelOfHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    const source = events();
    source.onopen = () => setLive('live');
    source.onerror = () => setLive('lost');
    source.addEventListener('status', (event) => {
      setStatus(JSON.parse((event as MessageEvent<string>).data) as StatusReport);
      setSnapshots((count) => count + 1);
      setProblem(null);
    });
    source.addEventListener('logs', (event) => {
      const lines = JSON.parse((event as MessageEvent<string>).data) as DashboardLogLine[];
      setLiveLines((previous) => [...previous, ...lines].slice(-2000));
    });
    source.addEventListener('problem', (event) => {
      setProblem((JSON.parse((event as MessageEvent<string>).data) as { message: string }).message);
    });
    return () => source.close();
  }, []);

  const show = (next: Panel) => {
    window.location.hash = next;
    setPanel(next);
  };

  return (
    <div className="page">
      <header>
        <h1>devctl</h1>
        <span className="namespace" data-testid="namespace">
          {status?.namespace ?? ''}
        </span>
        <nav>
          {PANELS.map((name) => (
            <button
              key={name}
              type="button"
              className={name === panel ? 'tab active' : 'tab'}
              data-panel={name}
              onClick={() => show(name)}
            >
              {name}
            </button>
          ))}
        </nav>
        <span className={`live ${live}`} data-testid="live" data-snapshots={snapshots}>
          {live}
        </span>
      </header>
      {problem && <p className="problem">{problem}</p>}
      <main>
        {panel === 'services' && <Services status={status} />}
        {panel === 'graph' && <Graph status={status} />}
        {panel === 'logs' && (
          <Logs services={status?.services.map((s) => s.name) ?? []} liveLines={liveLines} />
        )}
        {panel === 'findings' && <Findings />}
        {panel === 'traces' && <Traces />}
      </main>
    </div>
  );
}
