import { useState } from 'react';
import { type ActionResult, act, type DashboardAction, type StatusReport } from '../api';
import { bytes, duration } from '../format';

type Service = StatusReport['services'][number];

function probeText(health: Service['health'] | undefined): string {
  if (!health) return '-';
  if (health.ok) return `ok ${health.latencyMs}ms`;
  return health.statusCode !== null ? `fail ${health.statusCode}` : (health.error ?? 'fail');
}

function stateClass(state: string): string {
  if (state === 'online') return 'good';
  if (state === 'errored' || state === 'crash-loop') return 'bad';
  if (state === 'launching' || state === 'stopping') return 'warn';
  return 'idle';
}

export function Services({ status }: { status: StatusReport | null }) {
  const [busy, setBusy] = useState<Record<string, DashboardAction | undefined>>({});
  const [verdicts, setVerdicts] = useState<Record<string, ActionResult | { ok: false; verdict: string }>>({});

  if (!status) return <p className="muted">reading PM2...</p>;
  if (!status.daemon.running) {
    return (
      <p className="problem" data-testid="daemon-down">
        The PM2 daemon is not running ({status.daemon.pm2Home}): nothing of {status.namespace} runs. Start the
        stack with <code>pnpm pm2:start</code>.
      </p>
    );
  }

  const run = async (action: DashboardAction, name: string) => {
    setBusy((b) => ({ ...b, [name]: action }));
    try {
      const result = await act(action, name);
      setVerdicts((v) => ({ ...v, [name]: result }));
    } catch (error) {
      setVerdicts((v) => ({ ...v, [name]: { ok: false, verdict: (error as Error).message } }));
    } finally {
      setBusy((b) => ({ ...b, [name]: undefined }));
    }
  };

  return (
    <section>
      <table className="services">
        <thead>
          <tr>
            <th>service</th>
            <th>state</th>
            <th>pid</th>
            <th>port</th>
            <th>health</th>
            <th>ready</th>
            <th>cpu</th>
            <th>memory</th>
            <th>uptime</th>
            <th>restarts</th>
            <th>exit</th>
            <th>actions</th>
          </tr>
        </thead>
        <tbody>
          {status.services.map((s) => {
            const running = s.pid !== null;
            const verdict = verdicts[s.name];
            return [
              <tr key={s.name} data-service={s.name}>
                <td data-field="name">
                  {s.name}
                  {s.kind === 'tool' && <span className="muted"> (tool)</span>}
                </td>
                <td data-field="status" className={stateClass(s.status)}>
                  {s.status}
                </td>
                <td data-field="pid">{s.pid ?? '-'}</td>
                <td data-field="port">{s.port ?? '-'}</td>
                <td data-field="health" className={s.health ? (s.health.ok ? 'good' : 'bad') : 'idle'}>
                  {probeText(s.health)}
                </td>
                <td data-field="ready" className={s.ready ? (s.ready.ok ? 'good' : 'bad') : 'idle'}>
                  {probeText(s.ready)}
                </td>
                <td data-field="cpu">{running ? `${s.cpu}%` : '-'}</td>
                <td data-field="memory">{running ? bytes(s.memoryBytes) : '-'}</td>
                <td data-field="uptime">{duration(s.uptimeMs)}</td>
                <td data-field="restarts">{s.restarts}</td>
                <td data-field="exit">{s.exitCode ?? '-'}</td>
                <td className="actions">
                  {(['restart', 'stop', 'start'] as const).map((action) => (
                    <button
                      key={action}
                      type="button"
                      data-action={action}
                      disabled={
                        busy[s.name] !== undefined ||
                        s.kind === 'tool' ||
                        (action === 'stop' && !running) ||
                        (action === 'start' && running)
                      }
                      onClick={() => void run(action, s.name)}
                    >
                      {busy[s.name] === action ? `${action}...` : action}
                    </button>
                  ))}
                </td>
              </tr>,
              verdict && (
                <tr key={`${s.name}-verdict`} className="verdict-row">
                  <td colSpan={12} data-verdict={s.name} className={verdict.ok ? 'good' : 'bad'}>
                    {verdict.ok ? 'ok: ' : 'failed: '}
                    {verdict.verdict}
                  </td>
                </tr>
              ),
            ];
          })}
        </tbody>
      </table>
      {status.leftovers.map((left) => (
        <p key={left.service} className="warn">
          {left.service} is not running but port {left.port} is held by pid {left.pid ?? '?'} (
          {left.command ?? 'unknown'})
        </p>
      ))}
    </section>
  );
}
