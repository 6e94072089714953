// devctl trace: the path of one request across the services, from their logs. The same function
// serves the CLI (`devctl trace`), the MCP `trace` tool and any other face.
import { placeOf, placeText } from '../diagnose/config-snapshot';
import { type Ecosystem, loadEcosystem } from '../ecosystem/index';
import { printConfigCached } from '../ecosystem/print-config';
import { CLIError, usageError } from '../errors';
import { maskValue } from '../output/mask';
import { buildTrace } from './build';
import {
  DEFAULT_BYTES_PER_LOG,
  findLastFailure,
  mergeSearched,
  readRequestLines,
  type TraceSource,
} from './read';
import { describeRefusal, type RefusalSetting, settingVariables, type TraceRefusal } from './refusal';
import type { SearchedLog, Trace } from './types';

export { renderTrace } from './render';
export type { SearchedLog, Trace, TraceError, TraceHop, TraceLine } from './types';

export interface TraceOptions {
  /** The request id (the `x-request-id` header of an answer, or `requestId` in a 500's body). */
  requestId?: string;
  /** Trace the most recent request that failed instead. */
  lastError?: boolean;
  ecosystem?: Ecosystem;
  /** How far back each log is read (bytes from its end, rotated files included). */
  maxBytesPerLog?: number;
}

/** A trace waits this long at most for the refusing service's configuration (a cached dry run is instant). */
const SETTING_TIMEOUT_MS = 10_000;

/**
 * The variables of the refusing service's configuration that govern a framework refusal (its body
 * limit, its rate limit), with their value and where it is set: the same dry run and cache as
 * `devctl env`. Empty when the service has none or its configuration cannot be read.
 */
async function settingsOf(ecosystem: Ecosystem, refusal: TraceRefusal): Promise<RefusalSetting[]> {
  const pattern = settingVariables(refusal);
  const entry = ecosystem.services.find((service) => service.name === refusal.service);
  if (!pattern || !entry) return [];
  try {
    const { printed } = await printConfigCached(entry, ecosystem.root, { timeoutMs: SETTING_TIMEOUT_MS });
    return (printed?.variables ?? [])
      .filter((variable) => pattern.test(variable.name))
      .map((variable) => ({
        name: variable.name,
        value: variable.value === null ? null : maskValue(variable.name, variable.value),
        source: variable.source,
        place: placeText(placeOf(ecosystem.root, entry, variable.name, variable.source)),
        default: variable.default ?? null,
      }));
  } catch {
    // Not a kit service, or no build: the next step still names the setting and `devctl env`.
    return [];
  }
}

/** The kit accepts request ids of this form (packages/service-kit/src/app.ts). */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

function sourcesOf(ecosystem: Ecosystem): TraceSource[] {
  return ecosystem.services.flatMap((service) => [
    { service: service.name, stream: 'out' as const, file: service.outFile },
    { service: service.name, stream: 'err' as const, file: service.errorFile },
  ]);
}

function whatWasSearched(searched: SearchedLog[], budget: number): string {
  const services = new Set(searched.map((log) => log.service)).size;
  const oldest = searched
    .map((log) => log.oldest)
    .filter((time): time is string => time !== null)
    .sort()[0];
  const back = oldest ? `, back to ${new Date(oldest).toLocaleString('sv-SE')}` : '';
  const what = `the last ${Math.round(budget / 1048576)} MiB of the out and error logs of ${services} service${services === 1 ? '' : 's'}${back}`;
  // Nothing to read at all: say where the logs were expected, the likelier problem.
  if (searched.every((log) => log.bytes === 0)) {
    const example = searched.find((log) => log.files.length > 0)?.files[0];
    return `${what} (every one of them is empty or missing${example ? `, e.g. ${example}` : ''}; see out_file and error_file in ecosystem.config.js)`;
  }
  return what;
}

export async function trace(options: TraceOptions): Promise<Trace> {
  const requested = options.requestId?.trim();
  if (requested && options.lastError) throw usageError('give a request id or --last-error, not both');
  if (!requested && !options.lastError) {
    throw usageError(
      'which request? give its id (the x-request-id header of the answer), or --last-error for the most recent failed request',
    );
  }
  if (requested && !REQUEST_ID.test(requested)) {
    throw usageError(
      `"${requested}" is not a request id (letters, digits, _ . : -, at most 128); copy the x-request-id header of the answer`,
    );
  }
  const ecosystem = options.ecosystem ?? loadEcosystem();
  const budget = options.maxBytesPerLog ?? DEFAULT_BYTES_PER_LOG;
  const sources = sourcesOf(ecosystem);
  const now = Date.now();
  let requestId = requested;
  let searchedBefore: SearchedLog[] = [];
  if (!requestId) {
    const { failure, searched } = findLastFailure(sources, ecosystem.root, now, budget);
    if (!failure) {
      throw new CLIError(
        `no failed request (a 5xx answer, or one that never answered) in ${whatWasSearched(searched, budget)}; next: pnpm devctl diagnose`,
        1,
        { searched },
      );
    }
    requestId = failure.requestId;
    searchedBefore = searched;
  }
  const { lines, searched } = readRequestLines(sources, requestId, ecosystem.root, budget);
  if (lines.length === 0) {
    throw new CLIError(
      `no log line carries request id "${requestId}": searched ${whatWasSearched(searched, budget)}. It may be older than that, or from another checkout's stack. Next: pnpm devctl trace --last-error (the most recent failed request), or pnpm devctl logs --grep ${requestId}`,
      1,
      { requestId, searched },
    );
  }
  const folders = new Map(ecosystem.services.map((service) => [service.name, service.folder]));
  const built = buildTrace(requestId, lines, {
    root: ecosystem.root,
    folderOf: (service) => folders.get(service),
    now,
  });
  const refusal = built.refusal;
  if (refusal && settingVariables(refusal)) {
    refusal.variables = await settingsOf(ecosystem, refusal);
    const hop = built.hops[refusal.hop];
    if (hop && refusal.variables.length > 0) built.next = describeRefusal(refusal, hop).next;
  }
  return { ...built, searched: mergeSearched(searchedBefore, searched) };
}
