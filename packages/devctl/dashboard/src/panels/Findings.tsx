import { useCallback, useEffect, useState } from 'react';
import { type DiagnoseReport, get } from '../api';

export function Findings() {
  const [report, setReport] = useState<DiagnoseReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reading, setReading] = useState(false);

  const read = useCallback(() => {
    setReading(true);
    get<DiagnoseReport>('/api/findings')
      .then((r) => {
        setReport(r);
        setError(null);
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => setReading(false));
  }, []);
  useEffect(read, []);

  return (
    <section className="findings">
      <p>
        <button type="button" onClick={read} disabled={reading}>
          {reading ? 'diagnosing...' : 'diagnose again'}
        </button>{' '}
        <span className="muted">the same findings as devctl diagnose, root cause first</span>
      </p>
      {error && <p className="problem">{error}</p>}
      {report?.healthy && (
        <p className="good" data-testid="healthy">
          no finding: every service looks healthy
        </p>
      )}
      <ol>
        {report?.findings.map((finding, index) => (
          <li key={index} data-finding={finding.kind} className={index === 0 ? 'root-cause' : undefined}>
            <p>
              {index === 0 && <strong className="bad">root cause </strong>}
              <strong>{finding.service}</strong> <span className="muted">{finding.kind}</span>:{' '}
              {finding.summary}
            </p>
            {finding.location && (
              <p className="muted">
                where: {finding.location.file}
                {finding.location.line ? `:${finding.location.line}` : ''}
              </p>
            )}
            <ul className="evidence">
              {finding.evidence.slice(0, 6).map((item, i) => (
                <li key={i}>
                  <pre>
                    {item.service} {item.stream} {item.time}: {item.text}
                  </pre>
                </li>
              ))}
            </ul>
            <p className="next">
              next: <code data-testid="next-command">{finding.next}</code>{' '}
              <button type="button" onClick={() => void navigator.clipboard?.writeText(finding.next)}>
                copy
              </button>
            </p>
          </li>
        ))}
      </ol>
    </section>
  );
}
