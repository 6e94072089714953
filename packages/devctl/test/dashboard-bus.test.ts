// The dashboard redraws a state change from PM2's bus ($PM2_HOME/pub.sock), not from its interval:
// against a real daemon in a private PM2_HOME, a stop and a start of a fixture app arrive as
// process events with the app's name and namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessEvent, subscribeProcessEvents } from '../src/dashboard/bus';
import { createFixture, type Fixture } from './fixtures/harness';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture([{ name: 'alpha' }], { namespace: 'dash-bus' });
  const started = await fixture.devctl(['start', '--wait', '--no-build']);
  expect(started.code, started.stderr).toBe(0);
}, 90_000);

afterAll(async () => {
  await fixture?.cleanup();
}, 60_000);

/** Resolves with the events seen once `until` holds for one of them. */
function collect(
  until: (event: ProcessEvent) => boolean,
  home: string,
): { events: ProcessEvent[]; done: Promise<void>; connected: Promise<boolean>; close(): void } {
  const events: ProcessEvent[] = [];
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const subscription = subscribeProcessEvents(
    (event) => {
      events.push(event);
      if (until(event)) resolveDone();
    },
    () => {},
    home,
  );
  return { events, done, connected: subscription.connected, close: () => subscription.close() };
}

describe('subscribeProcessEvents', () => {
  it("delivers the daemon's events of an app going down and coming up, with its namespace", async () => {
    const home = fixture.home.env.PM2_HOME as string;
    // devctl's stop ends the process itself once PM2 has let go of it: the daemon says `exit`.
    const stopped = collect(
      (event) => event.name === 'alpha' && ['stop', 'exit'].includes(event.event),
      home,
    );
    expect(await stopped.connected).toBe(true);
    try {
      expect((await fixture.devctl(['stop', 'alpha'])).code).toBe(0);
      await stopped.done;
    } finally {
      stopped.close();
    }
    expect(stopped.events.find((event) => event.name === 'alpha')).toMatchObject({
      event: expect.stringMatching(/^(stop|exit)$/),
      name: 'alpha',
      namespace: 'dash-bus',
    });

    const online = collect((event) => event.name === 'alpha' && event.event === 'online', home);
    expect(await online.connected).toBe(true);
    try {
      expect((await fixture.devctl(['start', 'alpha', '--wait', '--no-build'])).code).toBe(0);
      await online.done;
    } finally {
      online.close();
    }
  }, 60_000);

  it('reports the end of the socket when no daemon listens', async () => {
    let closed = false;
    const subscription = subscribeProcessEvents(
      () => {},
      () => {
        closed = true;
      },
      '/nonexistent-pm2-home',
    );
    expect(await subscription.connected).toBe(false);
    subscription.close();
    expect(closed).toBe(true);
  });
});
