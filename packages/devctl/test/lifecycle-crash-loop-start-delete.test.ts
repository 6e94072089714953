// start and delete of a crash-looping service at many moments of PM2's cycle, on a real daemon
// (the restart sweep is lifecycle-crash-loop.test.ts; each file has its own fixture and daemon).
// After the fix (the ecosystem's env flipped back to ok), one `start --wait` must bring the service
// up at the first call, on the fixed configuration. `delete` at any moment must leave nothing
// holding the port, also a second later (no relaunch that PM2 had already begun before the delete).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listeningInodes } from '../src/ports/holders';
import type { Fixture } from './fixtures/harness';
import { parseJson } from './fixtures/harness';
import { nameOf, pm2Processes } from './fixtures/pm2-list';
import {
  breakIt,
  delays,
  flaky,
  type RestartReport,
  ROUNDS,
  sleep,
  startedFixture,
} from './lifecycle-crash-loop-helpers';

describe('start and delete of a crash-looping service, at many moments of PM2 back-off', () => {
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await startedFixture();
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  it('start after the fix brings a crash-looping service up at the first call, on the fixed configuration', async () => {
    const failures: string[] = [];
    for (const delay of delays.slice(0, 4)) {
      const breakFailed = await breakIt(fixture);
      if (breakFailed) {
        failures.push(breakFailed);
        continue;
      }
      await sleep(delay);
      fixture.writeEcosystem([flaky('ok')]);
      const result = await fixture.devctl(['start', 'flaky', '--wait', '--json']);
      const service = result.code === 0 ? parseJson<RestartReport>(result).services[0] : undefined;
      const log = readFileSync(join(fixture.dir('flaky'), 'logs', 'out.log'), 'utf8');
      if (!service?.healthy || !log.includes(`mode ok, pid ${service.pid})`)) {
        failures.push(`after ${delay} ms: exit ${result.code}: ${result.stdout} ${result.stderr}`);
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it('delete at any moment of the loop leaves nothing on the port, also a second later', async () => {
    const port = fixture.ports.flaky as number;
    const leftovers: string[] = [];
    const rounds = Math.ceil(ROUNDS / 2);
    for (const delay of delays.slice(0, rounds)) {
      fixture.writeEcosystem([flaky('crash')]);
      const started = await fixture.devctl(['start', 'flaky']);
      if (started.code !== 0) {
        leftovers.push(`after ${delay} ms: start failed: ${started.stdout} ${started.stderr}`);
        continue;
      }
      await sleep(delay);
      const deleted = await fixture.devctl(['delete', 'flaky', '--json']);
      if (deleted.code !== 0) leftovers.push(`after ${delay} ms: delete failed: ${deleted.stdout}`);
      const now = listeningInodes(port).length;
      // A relaunch PM2 had begun before the delete would come up within its start-up time.
      await sleep(1500);
      const later = listeningInodes(port).length;
      const inPm2 = (await pm2Processes(fixture.home.home)).some((p) => nameOf(p) === 'flaky');
      if (now > 0 || later > 0 || inPm2) {
        leftovers.push(`after ${delay} ms: port held ${now}/${later}, still in PM2: ${inPm2}`);
      }
    }
    console.log(`deletes that left nothing behind: ${rounds - leftovers.length}/${rounds}`);
    expect(leftovers).toEqual([]);
  }, 600_000);
});
