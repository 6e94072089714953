import { useCallback, useEffect, useState } from 'react';
import { get, type RecentRequest, type Trace } from '../api';
import { clock } from '../format';

function idOfHash(): string {
  const match = /^#trace=(.+)$/.exec(window.location.hash);
  return match?.[1] ? decodeURIComponent(match[1]) : '';
}

function Waterfall({ trace }: { trace: Trace }) {
  const start = Date.parse(trace.start);
  const ends = trace.hops.map((hop) =>
    hop.end ? Date.parse(hop.end) : Date.parse(hop.start) + (hop.pendingMs ?? hop.durationMs ?? 0),
  );
  const span = Math.max(1, ...ends.map((end) => end - start));
  return (
    <div className="trace" data-testid="trace" data-request={trace.requestId}>
      <p className={trace.failed ? 'bad' : 'good'} data-testid="trace-summary">
        {trace.summary}
      </p>
      <table className="waterfall">
        <tbody>
          {trace.hops.map((hop, index) => {
            const left = ((Date.parse(hop.start) - start) / span) * 100;
            const width = Math.max(0.5, (((ends[index] ?? start) - Date.parse(hop.start)) / span) * 100);
            const failed = hop.status === null || hop.status >= 500 || hop.error !== null;
            return (
              <tr
                key={index}
                data-hop={hop.service}
                className={index === trace.origin ? 'origin' : undefined}
              >
                <td className="hop-name" style={{ paddingLeft: `${hop.depth * 1.2}em` }}>
                  {hop.service}
                </td>
                <td className="hop-request">
                  {hop.method} {hop.url}
                </td>
                <td className={failed ? 'bad' : 'good'} data-field="status">
                  {hop.status ?? 'no answer'}
                </td>
                <td>{hop.durationMs !== null ? `${Math.round(hop.durationMs)} ms` : '-'}</td>
                <td className="bar-cell">
                  <div
                    className={failed ? 'bar bad-bar' : 'bar'}
                    style={{ marginLeft: `${left}%`, width: `${width}%` }}
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {trace.hops
        .filter((hop) => hop.error)
        .map((hop, index) => (
          <div key={index} className="hop-error" data-hop-error={hop.service}>
            <strong>{hop.service}</strong>: {hop.error?.type} {hop.error?.message}
            {hop.error?.location && (
              <span data-testid="error-location">
                {' '}
                at {hop.error.location.file}:{hop.error.location.line}
              </span>
            )}
          </div>
        ))}
      {trace.next && (
        <p className="next">
          next: <code>{trace.next}</code>
        </p>
      )}
    </div>
  );
}

export function Traces() {
  const [requests, setRequests] = useState<RecentRequest[]>([]);
  const [pasted, setPasted] = useState(idOfHash);
  const [trace, setTrace] = useState<Trace | null>(null);
  const [error, setError] = useState<string | null>(null);

  const readList = useCallback(() => {
    get<{ requests: RecentRequest[] }>('/api/requests')
      .then((answer) => setRequests(answer.requests))
      .catch((e: Error) => setError(e.message));
  }, []);

  const open = useCallback((id: string) => {
    const requestId = id.trim();
    if (!requestId) return;
    window.history.replaceState(null, '', `${window.location.search}#trace=${encodeURIComponent(requestId)}`);
    setTrace(null);
    get<Trace>(`/api/trace/${encodeURIComponent(requestId)}`)
      .then((t) => {
        setTrace(t);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, []);

  useEffect(() => {
    readList();
    if (pasted) open(pasted);
  }, []);

  return (
    <section className="traces">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          open(pasted);
        }}
      >
        <input
          data-testid="trace-id"
          value={pasted}
          placeholder="paste a request id (x-request-id of an answer)"
          onChange={(e) => setPasted(e.target.value)}
          onPaste={(e) => {
            const id = e.clipboardData.getData('text');
            setPasted(id);
            open(id);
            e.preventDefault();
          }}
        />
        <button type="submit">open</button>{' '}
        <button type="button" onClick={readList}>
          refresh list
        </button>
      </form>
      {error && <p className="problem">{error}</p>}
      {trace && <Waterfall trace={trace} />}
      <table className="requests">
        <tbody>
          {requests.map((request) => (
            <tr
              key={request.requestId}
              data-request-id={request.requestId}
              className={request.failed ? 'bad' : undefined}
            >
              <td>{clock(request.time)}</td>
              <td>
                <button type="button" className="link" onClick={() => open(request.requestId)}>
                  {request.requestId}
                </button>
              </td>
              <td>
                {request.method} {request.url}
              </td>
              <td>{request.status ?? 'no answer'}</td>
              <td className="muted">{request.services.join(' → ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {requests.length === 0 && <p className="muted">no request in the recent logs</p>}
    </section>
  );
}
