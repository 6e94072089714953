import { ApiError } from '../api/client';

/** What went wrong, which service, and the command to run next; never a blank space. */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (error === null || error === undefined) return null;
  let summary: string;
  let hint: string | null = null;
  if (error instanceof ApiError) {
    summary = error.summary;
    if (error.status === 0) hint = 'Is the dev server (pnpm dev) still running?';
    else if (error.unavailable) {
      hint = `Next: pnpm devctl diagnose ${error.service}   (recent errors: pnpm devctl logs ${error.service} --err)`;
    }
  } else {
    summary = error instanceof Error ? error.message : String(error);
  }
  return (
    <div className="error" role="alert">
      {title ? <strong className="error-title">{title}</strong> : null}
      <p className="error-summary">{summary}</p>
      {hint ? <p className="error-hint">{hint}</p> : null}
    </div>
  );
}
