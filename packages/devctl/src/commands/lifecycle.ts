// `devctl stop|restart|delete [names...|all]`, on this project's PM2 namespace only
// (src/lifecycle/). restart re-reads ecosystem.config.js and rebuilds first, so edited code,
// edited .env files (the services read them at start) and edited ecosystem env all apply; with
// --wait it prints the log lines written since, and a verdict that is healthy only when every
// restart took and diagnose finds nothing new since.
import { loadEcosystem } from '../ecosystem/index';
import { restartServices, type TakeDownVerb, takeDownServices } from '../lifecycle/index';
import { pm2Home } from '../pm2/index';
import { finishReport, Reporter, renderLogLines, renderVerdict } from './_lifecycle-render';

export interface StopOptions {
  names: string[];
  json: boolean;
}

export interface RestartOptions {
  names: string[];
  wait: boolean;
  build: boolean;
  timeoutSeconds?: number;
  json: boolean;
}

function serviceNames(): string[] {
  return loadEcosystem().services.map((s) => s.name);
}

async function stopOrDelete(options: StopOptions, verb: TakeDownVerb): Promise<void> {
  const outcome = await takeDownServices(options.names, verb, new Reporter(options.json, serviceNames()));
  if (!outcome.daemonRunning) {
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, daemon: { running: false }, services: [] })}\n`);
    } else {
      process.stdout.write(`PM2 daemon is not running (PM2_HOME=${pm2Home()}); nothing to ${verb}\n`);
    }
    return;
  }
  finishReport(verb, outcome.results, options.json, { namespace: outcome.namespace });
}

export function runStop(options: StopOptions): Promise<void> {
  return stopOrDelete(options, 'stop');
}

export function runDelete(options: StopOptions): Promise<void> {
  return stopOrDelete(options, 'delete');
}

export async function runRestart(options: RestartOptions): Promise<void> {
  const outcome = await restartServices(options, new Reporter(options.json, serviceNames()));
  const extra: Record<string, unknown> = { namespace: outcome.namespace };
  if (outcome.verdict && outcome.logLines) {
    extra.logLines = outcome.logLines;
    extra.verdict = outcome.verdict;
    if (!options.json) {
      for (const name of new Set(outcome.results.map((r) => r.name))) {
        const lines = outcome.logLines.filter((l) => l.service === name);
        if (outcome.results.some((r) => r.name === name && r.action === 'restarted')) {
          process.stdout.write(renderLogLines(name, lines));
        }
      }
      process.stdout.write(await renderVerdict(outcome.verdict));
    }
  }
  finishReport('restart', outcome.results, options.json, extra, outcome.ok);
}
