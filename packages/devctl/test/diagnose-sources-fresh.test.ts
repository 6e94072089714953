// diagnose reads a service's sources to place a slow or hung request's handler. The MCP server and
// the dashboard run diagnose many times in one process while the user edits the services: each run
// must place the handler where it is now, not where it was when the process first read the file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@repo/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { placeOf } from '../src/diagnose/config-snapshot';
import { routeLocation } from '../src/diagnose/stack';
import type { ServiceEntry } from '../src/ecosystem/index';

const dir = tempDir('devctl-sources-');
afterAll(() => dir.cleanup());

const routes = (lines: string[]) => {
  const folder = join(dir.path, 'services', 'shop', 'src');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'routes.ts'), `${lines.join('\n')}\n`);
};

describe('routeLocation reads the sources as they are on disk at each call', () => {
  it('a line added above the handler, and a route added since the last call, are seen', () => {
    routes(["app.get('/items/:id', handler);"]);
    expect(routeLocation(dir.path, 'services/shop', 'GET', '/items/7')).toMatchObject({
      file: 'services/shop/src/routes.ts',
      line: 1,
    });
    expect(routeLocation(dir.path, 'services/shop', 'POST', '/orders')).toBeNull();

    // An edit of the same file: two lines above the handler, and a new route (the size changes).
    routes(['// orders', "app.post('/orders', create);", "app.get('/items/:id', handler);"]);
    expect(routeLocation(dir.path, 'services/shop', 'GET', '/items/7')).toMatchObject({ line: 3 });
    expect(routeLocation(dir.path, 'services/shop', 'POST', '/orders')).toMatchObject({ line: 2 });

    // A new file in the folder.
    writeFileSync(join(dir.path, 'services', 'shop', 'src', 'audit.ts'), "app.get('/audit', list);\n");
    expect(routeLocation(dir.path, 'services/shop', 'GET', '/audit')).toMatchObject({
      file: 'services/shop/src/audit.ts',
      line: 1,
    });
  });
});

describe('placeOf reads a .env as it is on disk at each call', () => {
  it('a line added above a variable, or the variable removed, is seen by the next call', () => {
    const folder = join(dir.path, 'services', 'cart');
    mkdirSync(folder, { recursive: true });
    const entry = { folder: 'services/cart', env: {} } as unknown as ServiceEntry;
    writeFileSync(join(folder, '.env'), 'PORT=3100\n');
    expect(placeOf(dir.path, entry, 'PORT', 'service .env')).toEqual({ file: 'services/cart/.env', line: 1 });
    writeFileSync(join(folder, '.env'), '# the cart\nLOG_LEVEL=debug\nPORT=3101\n');
    expect(placeOf(dir.path, entry, 'PORT', 'service .env')).toEqual({ file: 'services/cart/.env', line: 3 });
    writeFileSync(join(folder, '.env'), '# the cart\nLOG_LEVEL=debug\n');
    expect(placeOf(dir.path, entry, 'PORT', 'service .env')).toEqual({
      file: 'services/cart/.env',
      line: null,
    });
  });
});
