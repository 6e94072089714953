// PM2 can publish a process's last stderr lines on its bus and never write them to the error log
// (it destroys the log streams on the child's exit, which Node may report before that data; an
// error_file of /dev/null writes nothing by design). start and restart read the bus as well: a
// service that says why it stops is never reported with "its error log is empty".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture } from './fixtures/harness';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture([
    // Writes its reason to stderr and exits 78 at once; PM2 writes none of it to a file.
    { name: 'unlogged', mode: 'config-error', app: { error_file: '/dev/null' } },
  ]);
}, 60_000);

afterAll(async () => {
  await fixture?.cleanup();
}, 60_000);

describe('the stderr of a service PM2 did not write to its error log', () => {
  it('start names the reason the service gave, from PM2 bus', async () => {
    const result = await fixture.devctl(['start', '--wait', '--timeout', '20']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/✗ unlogged\s+started: it exited with code 78/);
    expect(result.stdout).toContain("its error output since the start (from PM2's bus");
    expect(result.stdout).toContain('FIXTURE_API_TOKEN is required but not set');
    expect(result.stdout).not.toContain('its error log is empty');
  });

  it('restart does the same, in --json too', async () => {
    const result = await fixture.devctl(['restart', 'unlogged', '--wait', '--timeout', '20', '--json']);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as {
      services: { name: string; failure: { errorLines: string[]; errorLinesFromBus: boolean } | null }[];
    };
    const failure = report.services.find((s) => s.name === 'unlogged')?.failure;
    expect(failure?.errorLinesFromBus).toBe(true);
    expect(failure?.errorLines.join('\n')).toContain('FIXTURE_API_TOKEN is required but not set');
  });
});

describe('a service whose /health answered 503, then nothing, until the deadline', () => {
  let hung: Fixture;

  beforeAll(async () => {
    hung = await createFixture([
      { name: 'sickly', mode: 'unhealthy-then-hung', env: { FIXTURE_HANG_AFTER_MS: '1500' } },
    ]);
  }, 60_000);

  afterAll(async () => {
    await hung?.cleanup();
  }, 60_000);

  it('the verdict keeps the last answer (the 503 and its reason), not only the last probe that got none', async () => {
    const result = await hung.devctl(['start', '--wait', '--timeout', '4']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(
      /✗ sickly\s+started: no healthy answer within 4 s \(PM2 status online; last \/health answer: status 503: \{"message":"database unreachable"\}, then no answer within \d+ ms\)/,
    );
  });
});
