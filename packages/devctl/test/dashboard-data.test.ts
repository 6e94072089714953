// The dashboard's own readings, over log lines recorded from a real chain (edge -> mid -> leaf,
// test/fixtures/trace/chain): the recent requests of the traces panel, and the source line the
// logs panel links for a stack trace.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sourceOf } from '../src/dashboard/logs';
import { recentRequests } from '../src/dashboard/requests';
import type { Ecosystem } from '../src/ecosystem/index';

const chain = fileURLToPath(new URL('./fixtures/trace/chain', import.meta.url));
const ecosystem = {
  root: '/repo',
  namespace: 'chain',
  tools: [],
  services: ['edge', 'mid', 'leaf'].map((name) => ({
    name,
    outFile: join(chain, `${name}.out.log`),
    errorFile: join(chain, `${name}.error.log`),
  })),
} as unknown as Ecosystem;

describe('recentRequests', () => {
  it('lists requests by id, failed first (newest first), each with its first hop and every service it reached', () => {
    const requests = recentRequests(ecosystem);
    expect(requests.slice(0, 3).map((r) => [r.requestId.slice(0, 8), r.url, r.status, r.failed])).toEqual([
      ['734f48bd', '/orders/hang', 504, true],
      ['36fee5c4', '/orders/999', 502, true],
      ['66b276aa', '/orders/1', 200, false],
    ]);
    // The recording predates routine probes at debug: each service's /health was logged at info.
    expect(requests.slice(3).map((r) => [r.url, r.failed, r.services.length])).toEqual([
      ['/health', false, 1],
      ['/health', false, 1],
      ['/health', false, 1],
    ]);
    const failed = requests.find((r) => r.url === '/orders/999');
    expect(failed).toMatchObject({ service: 'edge', method: 'GET' });
    expect(failed?.services.sort()).toEqual(['edge', 'leaf', 'mid']);
  });

  it('keeps the newest `limit`', () => {
    expect(recentRequests(ecosystem, 1).map((r) => r.url)).toEqual(['/orders/hang']);
  });
});

describe('sourceOf', () => {
  const stack = [
    "TypeError: Cannot read properties of undefined (reading 'count')",
    '    at next (/repo/node_modules/.pnpm/fastify@5.12.8/node_modules/fastify/lib/hooks.js:236:9)',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    '    at elsewhere (/opt/other/lib.js:1:1)',
    '    at countOf (/repo/services/orders/src/routes/items.ts:15:16)',
    '    at Object.<anonymous> (/repo/services/orders/src/routes/items.ts:23:25)',
  ].join('\n');

  it("names the first frame in the project's own code, repository-relative", () => {
    expect(sourceOf(stack, '/repo')).toEqual({
      file: 'services/orders/src/routes/items.ts',
      line: 15,
      column: 16,
      path: '/repo/services/orders/src/routes/items.ts',
    });
  });

  it('takes a relative frame as it is, and finds nothing in a line without one', () => {
    expect(sourceOf('    at boom (src/index.ts:4:9)', '/repo')).toMatchObject({
      file: 'src/index.ts',
      line: 4,
    });
    expect(sourceOf('GET /orders/1 answered 200 in 3 ms at 10:00:01', '/repo')).toBeUndefined();
  });
});
