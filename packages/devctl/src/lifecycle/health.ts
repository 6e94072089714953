// Waiting for a service that was just launched: healthy only when /health answers 2xx AND the
// process that answers is the one PM2 runs for the app now (never a process PM2 lost track of,
// which would run older code or configuration).
import type { ServiceEntry } from '../ecosystem/index';
import { settleExitOutput } from '../pm2/log-tail';
import { serviceState } from '../pm2/state';
import type { ProcessWatcher } from '../pm2/supervise';
import type { ProcessInfo } from '../pm2/types';
import { type HealthResult, probeHealth } from '../probe';
import { instancesOf, servesPort } from './instances';
import { describeFailure, ERROR_LINES, type LogMarks, type ServiceFailure } from './outcome';
import { listenerPid, sleep } from './port';

export interface HealthOutcome {
  healthy: boolean;
  elapsedMs: number;
  info: ProcessInfo | undefined;
  failure?: ServiceFailure;
}

/** Crashes after the action, before giving up and calling it a crash loop. */
const CRASHES_BEFORE_GIVING_UP = 3;
const PROBE_INTERVAL_MS = 50;
/** Failures where the process has exited, so its last output may still be on its way to the log. */
const EXITED_KINDS = new Set(['stopped', 'errored', 'crash-loop']);

/**
 * Waits until `service` answers GET /health with 2xx from its current PM2 process (or, without a
 * port, until PM2 reports it online). Gives up early when PM2 reports it errored or stopped, or it
 * crashed CRASHES_BEFORE_GIVING_UP times since the action (`restartsBefore` is PM2's count before).
 */
export async function waitUntilHealthy(
  service: ServiceEntry,
  watcher: ProcessWatcher,
  options: {
    timeoutMs: number;
    restartsBefore: number;
    marks: LogMarks | undefined;
    /** When the action began (performance.now()), for elapsedMs; default now. */
    since?: number;
  },
): Promise<HealthOutcome> {
  const started = options.since ?? performance.now();
  const deadline = started + options.timeoutMs;
  let lastHealth: HealthResult | null = null;
  // The last probe that got an HTTP answer: under load the last probe before the deadline, cut to
  // its remaining 100 ms, may get none, and "no answer within 100 ms" would hide the 503 and the
  // reason the service gave a moment before.
  let lastAnswer: HealthResult | null = null;
  const evidence = () => lastAnswer ?? lastHealth;
  let info: ProcessInfo | undefined;
  const elapsed = () => Math.round(performance.now() - started);
  const fail = async (kind: string, reason: string): Promise<HealthOutcome> => {
    const elapsedMs = elapsed();
    // The process is gone: the lines it wrote last may not be in its log file yet (PM2's bus has
    // them already, when start or restart subscribed to it).
    const published = watcher.errorOutput?.of(service.name, ERROR_LINES) ?? [];
    if (EXITED_KINDS.has(kind) && options.marks && published.length === 0) {
      await settleExitOutput(options.marks.err, options.marks.errOffset);
    }
    return {
      healthy: false,
      elapsedMs,
      info,
      failure: describeFailure(service, info, options.marks, kind, reason, evidence(), published),
    };
  };
  for (;;) {
    const remaining = deadline - performance.now();
    if (service.port !== undefined) {
      lastHealth = await probeHealth(service.port, {
        timeoutMs: Math.round(Math.max(100, Math.min(1000, remaining))),
      });
      if (lastHealth.statusCode !== null) lastAnswer = lastHealth;
      if (lastHealth.ok) {
        const instances = instancesOf(await watcher.list(0), service.name);
        info = instances[0];
        const holder = listenerPid(service.port);
        if (info && holder !== undefined && servesPort(info, holder)) {
          // Several instances: healthy once every one of them is online, not at the first answer.
          if (instances.every((i) => i.status === 'online'))
            return { healthy: true, elapsedMs: elapsed(), info };
        } else if (holder !== undefined) {
          // Someone else answers on the port: a process PM2 lost, still running older code.
          return fail(
            'orphan',
            `/health is answered by pid ${holder}, not by the process PM2 runs for ${service.name} (${info?.pm2Pid ? `pid ${info.pm2Pid}` : 'none'})`,
          );
        }
      }
    }
    info = await watcher.find(service.name);
    if (!info) return fail('missing', `${service.name} is not in PM2 any more (deleted while starting?)`);
    const state = serviceState(info);
    if (info.status === 'errored') {
      return fail('errored', `PM2 gave up restarting it (errored after ${info.restarts} restarts)`);
    }
    if (state === 'stopped') {
      const code = info.exitCode === undefined ? '' : ` with code ${info.exitCode}`;
      return fail('stopped', `it exited${code} and PM2 did not restart it`);
    }
    const crashes = info.restarts - options.restartsBefore;
    if (crashes >= CRASHES_BEFORE_GIVING_UP) {
      return fail(
        'crash-loop',
        `it crashed ${crashes} times since the start (crash loop; last exit code ${info.exitCode ?? '?'})`,
      );
    }
    if (service.port === undefined && state === 'online')
      return { healthy: true, elapsedMs: elapsed(), info };
    if (performance.now() >= deadline) {
      const answer = lastAnswer && lastAnswer !== lastHealth ? lastAnswer : null;
      const last = answer
        ? `; last /health answer: ${answer.error}, then ${lastHealth?.error ?? 'no answer'}`
        : lastHealth
          ? `; last /health probe: ${lastHealth.error}`
          : '';
      return fail(
        'timeout',
        `no healthy answer within ${Math.round(options.timeoutMs / 1000)} s (PM2 status ${info.status}${last})`,
      );
    }
    await sleep(PROBE_INTERVAL_MS);
  }
}
