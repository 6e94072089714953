// The human rendering of a trace: the request and its answer, one line per hop indented by its
// depth in the chain of calls, the error (with its source line) under the hop that logged it, then
// where the failure began and the next step. `--json` prints the trace itself instead.
import { formatLocation } from '../diagnose/stack';
import { c } from '../output/colors';
import { visibleWidth } from '../output/table';
import { formatMs } from './build';
import type { Trace, TraceHop } from './types';

/** Local clock time with milliseconds: hops of one request are milliseconds apart. */
function clockMs(iso: string): string {
  const time = new Date(iso);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${pad(time.getMilliseconds(), 3)}`;
}

function statusCell(hop: TraceHop): string {
  // Neither its request nor its answer was logged (only its error): whether it answered is unknown.
  if (!hop.completed && hop.pendingMs === null) return c.yellow('?');
  if (!hop.completed) return c.red('no answer');
  const text = String(hop.status ?? '?');
  return (hop.status ?? 0) >= 500 ? c.red(text) : (hop.status ?? 0) >= 400 ? c.yellow(text) : c.green(text);
}

function durationCell(hop: TraceHop): string {
  if (hop.completed) return formatMs(hop.durationMs ?? 0);
  return hop.pendingMs === null ? '-' : c.red(`came in ${formatMs(hop.pendingMs)} ago`);
}

const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - visibleWidth(text)));

export function renderTrace(trace: Trace): string {
  const rows = trace.hops.map((hop) => ({
    time: clockMs(hop.start),
    service: `${'  '.repeat(hop.depth)}${hop.service}`,
    request: `${hop.method ?? '?'} ${hop.url ?? '?'}`,
    status: statusCell(hop),
    duration: durationCell(hop),
  }));
  const width = (key: keyof (typeof rows)[number], header: string) =>
    Math.max(header.length, ...rows.map((row) => visibleWidth(row[key])));
  const widths = {
    time: width('time', 'time'),
    service: width('service', 'service'),
    request: width('request', 'request'),
    status: width('status', 'status'),
  };
  const line = (cells: {
    time: string;
    service: string;
    request: string;
    status: string;
    duration: string;
  }) =>
    `  ${pad(cells.time, widths.time)}  ${pad(cells.service, widths.service)}  ${pad(cells.request, widths.request)}  ${pad(cells.status, widths.status)}  ${cells.duration}`.trimEnd();
  const out = [
    `${c.bold(`request ${trace.requestId}`)}  ${trace.summary}`,
    c.dim(
      line({ time: 'time', service: 'service', request: 'request', status: 'status', duration: 'duration' }),
    ),
  ];
  const errorIndent = ' '.repeat(2 + widths.time + 2);
  trace.hops.forEach((hop, index) => {
    const row = rows[index] as (typeof rows)[number];
    out.push(index === trace.origin ? c.bold(line(row)) : line(row));
    if (!hop.error && hop.reason && (hop.status ?? 0) >= 400) {
      out.push(
        `${errorIndent}${'  '.repeat(hop.depth)}${c.dim(`refused: ${hop.reason}${hop.code ? ` (${hop.code})` : ''}`)}`,
      );
    }
    if (hop.error) {
      const inner = `${errorIndent}${'  '.repeat(hop.depth)}`;
      // A relay's frames are the client passing the upstream's failure on: not where a fix goes.
      const relay = hop.error.upstream ? ` (relayed from ${hop.error.upstream})` : '';
      const head = `${hop.error.type ?? 'Error'}: ${hop.error.message}${relay}`;
      out.push(`${inner}${index === trace.origin ? c.red(head) : c.dim(head)}`);
      if (!relay && hop.error.location)
        out.push(`${inner}${c.dim('at')} ${formatLocation(hop.error.location)}`);
    }
  });
  if (trace.origin !== null) {
    const origin = trace.hops[trace.origin] as TraceHop;
    out.push(
      '',
      `${c.dim('origin:')} ${c.bold(origin.service)}${origin.error?.location ? ` ${formatLocation(origin.error.location)}` : ''}`,
    );
  } else out.push('');
  out.push(`${c.dim('next:')}   ${c.bold(trace.next)}`);
  return out.join('\n');
}
