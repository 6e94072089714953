import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from './process';

/**
 * Test ports come from below the OS's ephemeral range (Linux: 32768-60999): a port the OS hands out
 * for `listen(0)` or an outgoing connection is in that range, so another test's server or client
 * could take it between the pick and the use (CI: a stack's worker-service port, picked with
 * listen(0), was held by another vitest worker a minute later). Below it, only another pick can
 * collide: see reserve().
 */
const RANGE = { from: 20_000, to: 32_000 };
/** Ports this process handed out already: never twice. */
const handedOut = new Set<number>();

/**
 * Where every test process on this machine notes the ports it handed out: one file per port,
 * holding the pid of the process that picked it. A port free a moment ago is no port free for a
 * test's whole length: a test that stops a service and starts it again leaves its port free
 * meanwhile, and another vitest worker's pick took it (a bench run: `devctl start` refused
 * beta-service, "port 29399 is held by ... services/db/server.js", another file's fixture). A pick
 * noted here is never handed out again while its process lives; a note of a process gone is taken
 * over. DEVSTACK_TEST_PORTS_DIR moves the folder (ports.test fills one of its own).
 */
const reservations = () => process.env.DEVSTACK_TEST_PORTS_DIR ?? join(tmpdir(), 'devstack-test-ports');

/** Notes `port` as this process's; false when a living process noted it first. */
function reserve(port: number): boolean {
  const folder = reservations();
  const file = join(folder, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(folder, { recursive: true });
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (error) {
      // A folder that cannot be written: the pick stands alone, as before there was a note.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return true;
    }
    let holder = 0;
    try {
      holder = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // removed meanwhile: try to take it again
    }
    // An empty note is one being written this instant: taken.
    if (!(holder > 0) || (holder !== process.pid && isAlive(holder))) return false;
    rmSync(file, { force: true });
  }
  return false;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port free on 127.0.0.1 a moment ago, outside the range the OS picks from for port 0, and
 * handed out by no other living test process (see reserve()). Starts at a random port of the range
 * and walks it from there, so a range nearly all noted still gives its last free port.
 */
export async function freePort(): Promise<number> {
  const size = RANGE.to - RANGE.from;
  const start = Math.floor(Math.random() * size);
  for (let step = 0; step < size; step++) {
    const port = RANGE.from + ((start + step) % size);
    if (handedOut.has(port)) continue;
    if (!reserve(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(
    `no free port on 127.0.0.1 between ${RANGE.from} and ${RANGE.to}: every one is in use or handed out to a living test process (${reservations()})`,
  );
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) ports.push(await freePort());
  return ports;
}
