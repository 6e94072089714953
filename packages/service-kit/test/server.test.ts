import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixtureArgs, freePort, spawnNode } from './processes';

const fixture = fileURLToPath(new URL('./fixtures/demo-service.ts', import.meta.url));
function start(env: Record<string, string>, ipc = false) {
  return spawnNode(fixtureArgs(fixture), env, { ipc });
}

describe('runService (real processes)', () => {
  it('exits 78 on a configuration error, naming the variable, with one parseable JSON line', async () => {
    const run = start({ PORT: String(await freePort()) });
    expect(await run.exited).toBe(78);
    expect(run.err()).toContain('config error in demo-service: REQUIRED_TOKEN is required but not set');
    const json = run
      .err()
      .split('\n')
      .find((l) => l.startsWith('{"devctl":"config-error"'));
    expect(JSON.parse(json as string)).toMatchObject({
      service: 'demo-service',
      variables: [{ name: 'REQUIRED_TOKEN' }],
    });
  });

  it("sends 'ready' once listening and finishes in-flight requests on SIGTERM", async () => {
    const port = await freePort();
    const run = start({ PORT: String(port), REQUIRED_TOKEN: 'abcd' }, true);
    await new Promise<void>((resolve) => run.child.on('message', (m) => m === 'ready' && resolve()));
    const inFlight = fetch(`http://127.0.0.1:${port}/slow`).then((r) => r.json());
    while (!run.out().includes('"url":"/slow"')) await new Promise((r) => setTimeout(r, 10));
    run.child.kill('SIGTERM');
    expect(await inFlight).toEqual({ done: true });
    expect(await run.exited).toBe(0);
    expect(run.out()).toContain('SIGTERM received');
  });

  it('exits 1 with a listen-error line naming the port when it is taken', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const { port } = holder.address() as { port: number };
    try {
      const run = start({ PORT: String(port), REQUIRED_TOKEN: 'abcd' });
      expect(await run.exited).toBe(1);
      expect(run.err()).toContain(`port ${port} is already in use`);
      expect(run.err()).toContain(
        `"devctl":"listen-error","service":"demo-service","host":"127.0.0.1","port":${port},"code":"EADDRINUSE"`,
      );
    } finally {
      holder.close();
    }
  });

  it('logs an uncaught exception with its TypeScript location and exits 1', async () => {
    const port = await freePort();
    const run = start({ PORT: String(port), REQUIRED_TOKEN: 'abcd' }, true);
    await new Promise<void>((resolve) => run.child.on('message', (m) => m === 'ready' && resolve()));
    await fetch(`http://127.0.0.1:${port}/throw-later`);
    expect(await run.exited).toBe(1);
    const fatal = JSON.parse(
      run
        .err()
        .split('\n')
        .find((l) => l.includes('"level":60')) as string,
    );
    expect(fatal.msg).toBe('uncaught exception: boom outside a request');
    expect(fatal.err.stack).toContain('demo-service.ts:');
  });
});
