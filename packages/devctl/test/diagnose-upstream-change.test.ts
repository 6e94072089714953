// A service that fails on what another answered it (trial 11: data-service answered `{items}`
// instead of `{submissions}`, its own schema changed to match, so only form-service failed, and
// diagnose said "fix services/form/src/routes/submissions.ts"). Live, in a temporary git repository:
// `shop` (the orders fixture) labels an item with the `name` that `stock` (the catalog fixture)
// answers. A commit renames that field in stock: shop's request fails with a TypeError in its own
// code, and only shop logs an error. diagnose keeps the finding on shop (the failure is there) but
// leads with stock's commit to the route that answered. Then the opposite: stock as it was, shop's
// own uncommitted edit breaks the label: no lead toward stock.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answersHealth,
  buildServices,
  diagnoseInProcess,
  editFile,
  type FixtureStack,
  get,
  gitIn,
  pm2Rpc,
  pm2StatusRpc,
  startFixtureStack,
  waitUntil,
} from './fixtures/harness';

let stack: FixtureStack;

const git = (...args: string[]) => gitIn(stack.root, args);
const edit = (file: string, change: (text: string) => string) => editFile(stack.root, file, change);

/** Rebuilds a fixture folder and restarts its app under PM2, until it answers /health again. */
async function rebuildAndRestart(name: string, folder: string): Promise<void> {
  await buildServices(stack.root, [folder]);
  const before = await pm2StatusRpc(stack, name);
  await pm2Rpc(stack, 'restart', name);
  await waitUntil(`${name} restarted`, async () => {
    const now = await pm2StatusRpc(stack, name);
    return now?.status === 'online' && now.pid !== before?.pid;
  });
  await waitUntil(`${name} healthy`, () => answersHealth(stack, name));
}

beforeAll(async () => {
  stack = await startFixtureStack(
    [
      { name: 'stock', folder: 'catalog' },
      {
        name: 'shop',
        folder: 'orders',
        dependsOn: ['stock'],
        env: { INVENTORY_SERVICE_URL: 'http://127.0.0.1:{{port:stock}}' },
      },
    ],
    { namespace: 'upstream-change' },
  );
  writeFileSync(join(stack.root, '.gitignore'), 'node_modules/\ndist/\nlogs/\nstack.json\n');
  git('init', '-q');
  git('add', '-A');
  // An hour old: the stack as it was before today's work (commit times are whole seconds).
  gitIn(
    stack.root,
    ['commit', '-qm', 'the stack as it works'],
    new Date(Date.now() - 3_600_000).toISOString(),
  );
  for (const name of ['stock', 'shop']) await waitUntil(`${name} healthy`, () => answersHealth(stack, name));
  const works = await get(stack.url('shop', '/labels/1'));
  expect(works, 'the label works before any change').toMatchObject({ status: 200 });
  expect(JSON.parse(works.body)).toEqual({ id: '1', label: 'TEAPOT' });
}, 120_000);

afterAll(async () => {
  await stack?.cleanup();
}, 60_000);

describe('a request that fails on the answer of a service whose route changed', () => {
  it("leads with the commit of the service that answered, while the finding stays on the caller's failure", async () => {
    edit('services/catalog/src/index.ts', (text) => text.replace("name: 'teapot'", "title: 'teapot'"));
    git('commit', '-qam', 'catalog: call the item name its title');
    const commit = git('rev-parse', '--short', 'HEAD');
    await rebuildAndRestart('stock', 'catalog');
    const failed = await get(stack.url('shop', '/labels/1'));
    expect(failed.status).toBe(500);

    const report = await diagnoseInProcess(stack);
    const finding = report.findings.find((f) => f.service === 'shop');
    expect(finding, JSON.stringify(report.findings, null, 2)).toMatchObject({
      kind: 'request-error',
      location: { file: 'services/orders/src/routes/items.ts' },
    });
    expect(finding?.summary).toContain(
      `it failed on stock's answer: stock answered 200 to GET /items/1 in this request, and services/catalog/src/index.ts, which declares that route, changed`,
    );
    expect(finding?.summary).toContain(`(commit ${commit} "catalog: call the item name its title")`);
    expect(finding?.next).toMatch(
      new RegExp(
        `^start from stock's change to the route that answered \\(shop may expect its old answer\\): git show ${commit} -- services/catalog/src/index\\.ts; then `,
      ),
    );
    // stock logged no error: it has no finding of its own.
    expect(report.findings.map((f) => f.service)).not.toContain('stock');
  });

  it("says nothing of the service that answered when the caller's own code changed after it", async () => {
    git('revert', '--no-edit', 'HEAD');
    await rebuildAndRestart('stock', 'catalog');
    expect(JSON.parse((await get(stack.url('shop', '/labels/1'))).body)).toEqual({
      id: '1',
      label: 'TEAPOT',
    });
    // Shop's own mistake, uncommitted and newer than stock's commits.
    edit('services/orders/src/routes/items.ts', (text) =>
      text.replace('item.name.toUpperCase()', 'item.nam.toUpperCase()'),
    );
    await rebuildAndRestart('shop', 'orders');
    const failed = await get(stack.url('shop', '/labels/1'));
    expect(failed.status).toBe(500);

    const report = await diagnoseInProcess(stack);
    const finding = report.findings.find((f) => f.service === 'shop' && f.kind === 'request-error');
    expect(finding, JSON.stringify(report.findings, null, 2)).toBeDefined();
    expect(finding?.summary).not.toContain("stock's answer");
    expect(finding?.next).not.toContain('git show');
  });
});
