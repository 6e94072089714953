import { useEffect, useMemo, useState } from 'react';
import { type DashboardLogLine, get } from '../api';
import { clock } from '../format';

const LEVELS = ['all', 'info', 'warn', 'error'] as const;
const RANK: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** A plain (non-JSON) line on the error stream counts as an error; on out, as info. */
function rankOf(line: DashboardLogLine): number {
  return RANK[line.level ?? ''] ?? (line.stream === 'err' ? 50 : 30);
}

export function Logs({ services, liveLines }: { services: string[]; liveLines: DashboardLogLine[] }) {
  const [service, setService] = useState('');
  const [level, setLevel] = useState<(typeof LEVELS)[number]>('all');
  const [text, setText] = useState('');
  const [history, setHistory] = useState<DashboardLogLine[]>([]);
  // Live lines already in `history` (the read and the stream overlap for a moment) are not repeated.
  const [since, setSince] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setSince(liveLines.length);
    get<{ lines: DashboardLogLine[] }>(
      `/api/logs?lines=300${service ? `&service=${encodeURIComponent(service)}` : ''}`,
    )
      .then((answer) => {
        setHistory(answer.lines);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [service]);

  const shown = useMemo(() => {
    const minimum = level === 'all' ? 0 : (RANK[level] ?? 0);
    let pattern: RegExp | undefined;
    try {
      pattern = text ? new RegExp(text, 'i') : undefined;
    } catch {
      pattern = undefined;
    }
    const live = liveLines.slice(since).filter((line) => !service || line.service === service);
    return [...history, ...live]
      .filter((line) => rankOf(line) >= minimum)
      .filter((line) => (pattern ? pattern.test(line.text) : !text || line.text.includes(text)))
      .slice(-1000);
  }, [history, liveLines, since, service, level, text]);

  return (
    <section className="logs">
      <div className="filters">
        <label>
          service{' '}
          <select data-testid="log-service" value={service} onChange={(e) => setService(e.target.value)}>
            <option value="">all</option>
            {services.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          level{' '}
          <select
            data-testid="log-level"
            value={level}
            onChange={(e) => setLevel(e.target.value as typeof level)}
          >
            {LEVELS.map((name) => (
              <option key={name} value={name}>
                {name === 'all' ? 'all' : `${name} and above`}
              </option>
            ))}
          </select>
        </label>
        <label>
          text{' '}
          <input
            data-testid="log-text"
            value={text}
            placeholder="text or regular expression"
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        <span className="muted" data-testid="log-count">
          {shown.length} lines
        </span>
      </div>
      {error && <p className="problem">{error}</p>}
      <table className="log-lines">
        <tbody>
          {shown.map((line, index) => (
            <tr
              key={index}
              data-log-service={line.service}
              data-log-level={line.level ?? line.stream}
              className={rankOf(line) >= 50 ? 'bad' : rankOf(line) >= 40 ? 'warn' : undefined}
            >
              <td className="time">{clock(line.time)}</td>
              <td className="service">{line.service}</td>
              <td className="text">
                <pre>{line.text}</pre>
                {line.source && (
                  <a
                    className="source"
                    data-testid="source-link"
                    href={`vscode://file${line.source.path}:${line.source.line}:${line.source.column}`}
                    title={`${line.source.path}:${line.source.line}:${line.source.column} (opens in VS Code)`}
                  >
                    {line.source.file}:{line.source.line}
                  </a>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
