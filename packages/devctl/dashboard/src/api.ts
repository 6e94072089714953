// The page's one way to the server: the token from the URL, sent in a header on every fetch (in the
// query only for the EventSource, which cannot set headers; actions never take it from the query).

import type { DashboardLogLine } from '../../src/dashboard/logs';
import type { RecentRequest } from '../../src/dashboard/requests';
import type { ActionResult, DashboardAction } from '../../src/dashboard/server';
import type { DiagnoseReport } from '../../src/diagnose/types';
import type { GraphReport } from '../../src/graph/index';
import type { StatusReport } from '../../src/status/index';
import type { Trace } from '../../src/trace/types';

export type {
  ActionResult,
  DashboardAction,
  DashboardLogLine,
  DiagnoseReport,
  GraphReport,
  RecentRequest,
  StatusReport,
  Trace,
};

export const token = new URLSearchParams(window.location.search).get('token') ?? '';
const TOKEN_HEADER = 'x-devctl-token';

async function answer<T>(response: Response): Promise<T> {
  const body = (await response.json()) as T & { message?: string };
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

export async function get<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { headers: { [TOKEN_HEADER]: token } }));
}

export async function act(action: DashboardAction, service: string): Promise<ActionResult> {
  return answer<ActionResult>(
    await fetch('/api/actions', {
      method: 'POST',
      headers: { [TOKEN_HEADER]: token, 'content-type': 'application/json' },
      body: JSON.stringify({ action, service }),
    }),
  );
}

export function events(): EventSource {
  return new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
}
