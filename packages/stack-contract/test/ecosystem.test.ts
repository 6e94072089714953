import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portOf, readEcosystem, readEcosystemApps } from '../src/index';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function project(source: string): string {
  const root = mkdtempSync(join(tmpdir(), 'stack-contract-'));
  roots.push(root);
  writeFileSync(join(root, 'ecosystem.config.js'), source);
  return root;
}

describe('readEcosystem', () => {
  it('resolves each app as PM2 does and splits services from tools', () => {
    const root = project(`module.exports = { apps: [
      { name: 'data-service', namespace: 'demo', cwd: 'services/data', script: 'dist/index.js', env: { PORT: 3004 } },
      { name: 'api-gateway', namespace: 'demo', cwd: __dirname + '/services/gw', env: { PORT: '3000' }, depends_on: ['data-service'], out_file: '/tmp/gw.out' },
      { name: 'rotator', namespace: 'demo', devctl_role: 'tool', script: 'bin/r.js' },
    ] };`);
    const ecosystem = readEcosystem(root);
    expect(ecosystem.namespace).toBe('demo');
    expect(ecosystem.file).toBe(join(root, 'ecosystem.config.js'));
    expect(ecosystem.services.map((s) => s.name)).toEqual(['data-service', 'api-gateway']);
    expect(ecosystem.tools.map((s) => s.name)).toEqual(['rotator']);
    const [data, gateway] = ecosystem.services;
    expect(data).toMatchObject({
      cwd: join(root, 'services/data'),
      folder: 'services/data',
      port: 3004,
      env: { PORT: '3004' },
      dependsOn: [],
      outFile: join(root, 'services/data/logs/out.log'),
      errorFile: join(root, 'services/data/logs/error.log'),
      kind: 'service',
    });
    expect(gateway).toMatchObject({
      folder: 'services/gw',
      port: 3000,
      dependsOn: ['data-service'],
      outFile: '/tmp/gw.out',
    });
    expect(ecosystem.tools[0]).toMatchObject({ kind: 'tool', port: undefined, folder: '' });
  });

  it('reads the file afresh after an edit', () => {
    const root = project(`module.exports = { apps: [{ name: 'a' }] };`);
    expect(readEcosystemApps(root).map((app) => app.name)).toEqual(['a']);
    writeFileSync(join(root, 'ecosystem.config.js'), `module.exports = { apps: [{ name: 'b' }] };`);
    expect(readEcosystemApps(root).map((app) => app.name)).toEqual(['b']);
  });

  it('gives no apps for a file without apps, and throws for a broken one', () => {
    expect(readEcosystemApps(project('module.exports = {};'))).toEqual([]);
    expect(() => readEcosystemApps(project('module.exports = {'))).toThrow();
  });
});

describe('portOf', () => {
  it.each([
    [{ PORT: '3000' }, 3000],
    [{ PORT: 'http' }, undefined],
    [{ PORT: '30.5' }, undefined],
    [{ PORT: '' }, undefined],
    [{}, undefined],
  ])('reads %j as %s', (env, port) => {
    expect(portOf(env)).toBe(port);
  });
});
