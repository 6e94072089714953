// A non-zero process.exit says where it was called, once, on stderr; exit 0 and the kit's own
// exits (which logged their reason) add nothing.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { callerOf } from '../src/exit-trace';
import { fixtureArgs, freePort, spawnNode } from './processes';

const demo = fileURLToPath(new URL('./fixtures/demo-service.ts', import.meta.url));
const early = fileURLToPath(new URL('./fixtures/exit-early.ts', import.meta.url));
const GIVE_UP = 'packages/service-kit/test/fixtures/give-up.ts:3:11';

const stderrLines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

describe('the exit trace (real processes)', { timeout: 60_000 }, () => {
  it('process.exit(3) at start: exit code 3 and one fatal line naming the caller', async () => {
    const run = spawnNode(fixtureArgs(demo), {
      PORT: String(await freePort()),
      REQUIRED_TOKEN: 'abcd',
      EXIT_AT_START: '3',
    });
    expect(await run.exited).toBe(3);
    const lines = stderrLines(run.err());
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string);
    expect(line).toMatchObject({
      level: 60,
      service: 'demo-service',
      msg: `process.exit(3) called at ${GIVE_UP} without a logged reason`,
      exit: { code: 3, at: GIVE_UP },
    });
    // The caller first, then who called it: the service's build.
    const frames = (line.exit.stack as string).split('\n');
    expect(frames[0]).toBe('process.exit(3)');
    expect(frames[1]).toMatch(/at giveUp \(.*test\/fixtures\/give-up\.ts:3:11\)$/);
    expect(frames[2]).toMatch(/demo-service\.ts:13:/);
  });

  it('an exit while running (from a timer) names the caller too', async () => {
    const port = await freePort();
    const run = spawnNode(fixtureArgs(demo), { PORT: String(port), REQUIRED_TOKEN: 'abcd' }, { ipc: true });
    await run.ready;
    await fetch(`http://127.0.0.1:${port}/exit/5`);
    expect(await run.exited).toBe(5);
    const fatal = stderrLines(run.err()).map((l) => JSON.parse(l));
    expect(fatal).toHaveLength(1);
    expect(fatal[0].exit).toMatchObject({ code: 5, at: GIVE_UP });
    expect(fatal[0].exit.stack).toMatch(/demo-service\.ts:16:/);
  });

  it('before the logger exists, writes the same line by hand', async () => {
    const run = spawnNode([...fixtureArgs(early), '4'], {});
    expect(await run.exited).toBe(4);
    const lines = stderrLines(run.err());
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: 60,
      service: 'early-service',
      exit: { code: 4, at: 'packages/service-kit/test/fixtures/exit-early.ts:5:9' },
    });
  });

  it('exit 0 writes nothing', async () => {
    const run = spawnNode([...fixtureArgs(early), '0'], {});
    expect(await run.exited).toBe(0);
    expect(run.err()).toBe('');
  });

  it('a clean shutdown (SIGTERM) writes nothing to stderr', async () => {
    const port = await freePort();
    const run = spawnNode(fixtureArgs(demo), { PORT: String(port), REQUIRED_TOKEN: 'abcd' }, { ipc: true });
    await run.ready;
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.err()).toBe('');
  });

  it("the kit's own exits (a config error, 78) add no line: they said why already", async () => {
    const run = spawnNode(fixtureArgs(demo), { PORT: String(await freePort()) });
    expect(await run.exited).toBe(78);
    expect(run.err()).toContain('REQUIRED_TOKEN is required');
    expect(run.err()).not.toContain('process.exit(');
  });
});

describe('callerOf', () => {
  it.each([
    ['    at giveUp (/repo/services/orders/src/faults/x.ts:4:3)', 'services/orders/src/faults/x.ts:4:3'],
    ['    at /repo/services/orders/src/index.ts:10:5', 'services/orders/src/index.ts:10:5'],
    ['    at run (file:///repo/services/orders/src/index.ts:10:5)', 'services/orders/src/index.ts:10:5'],
    ['    at x (/elsewhere/lib.js:1:2)', '/elsewhere/lib.js:1:2'],
    ['    at node:internal/timers:581:17', 'node:internal/timers:581:17'],
    ['no frames here', null],
  ])('%s -> %s', (frame, expected) => {
    expect(callerOf(`process.exit(3)\n${frame}`, '/repo')).toBe(expected);
  });
});
