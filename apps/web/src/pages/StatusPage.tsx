import { useEffect } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { useAsync } from '../components/useAsync';
import { useSession } from '../session/session';

const REFRESH_MS = 5000;

const healthy = (status: string) => ['ok', 'up', 'healthy', 'online'].includes(status.toLowerCase());

/** Each backend's health as the gateway sees it (GET /api/health), refreshed every few seconds. */
export function StatusPage() {
  const { api } = useSession();
  const health = useAsync(() => api.health(), [api]);
  const { reload } = health;

  useEffect(() => {
    const timer = window.setInterval(reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reload]);

  const services = Object.entries(health.data?.services ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section>
      <h1>Status</h1>
      <p className="muted">
        Health of each backend as api-gateway sees it, refreshed every {REFRESH_MS / 1000} s.{' '}
        <button type="button" className="secondary" onClick={reload}>
          Refresh now
        </button>
      </p>
      <ErrorMessage error={health.error} title="The health report could not be loaded" />
      {services.length > 0 ? (
        <table aria-label="Service health">
          <thead>
            <tr>
              <th>Service</th>
              <th>Status</th>
              <th className="number">Latency</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {services.map(([name, service]) => {
              const { status, latencyMs, ...detail } = service;
              return (
                <tr key={name} data-service={name}>
                  <td>{name}</td>
                  <td>
                    <span className={`badge ${healthy(String(status)) ? 'ok' : 'down'}`}>
                      {String(status)}
                    </span>
                  </td>
                  <td className="number">
                    {typeof latencyMs === 'number' ? `${Math.round(latencyMs)} ms` : '—'}
                  </td>
                  <td className="detail">
                    {Object.keys(detail).length > 0 ? <code>{JSON.stringify(detail)}</code> : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
