// Who refused a request that was answered 4xx, and what to read next. A 4xx comes either from the
// route's own rule (a handler's HttpError, the route's declared schema) or from Fastify or a plugin
// before any handler ran: a body over the limit, a content type no parser takes, a rate limit. The
// kit logs the error's `code` with a 4xx's reason (service-kit request-log.ts): without it, a user
// trial read "Request body is too large" as a handler's rule and searched the handler of the route,
// when the service's body-limit setting (BODY_LIMIT_BYTES in its .env) had refused it.
import type { TraceHop } from './types';

/** Who refused the request. */
export type RefusedBy =
  /** The handler's own rule (an HttpError it threw or a 4xx it sent). */
  | 'handler'
  /** The route's declared schema, validated by Fastify before the handler ran. */
  | 'schema'
  /** Fastify or one of its plugins, before any handler ran. */
  | 'framework';

/** A variable of the refusing service's configuration that governs the refusal, as `devctl env` shows it. */
export interface RefusalSetting {
  name: string;
  /** Masked like `devctl env`; null when unset. */
  value: string | null;
  /** process | service .env | root .env | default */
  source: string;
  /** Where it is set: `services/api-gateway/.env:12`, `ecosystem.config.js:40`, the config.ts default. */
  place: string;
  /** The schema's default, when the service declares one: what the value was changed from. */
  default: string | null;
}

export interface TraceRefusal {
  /** The index in `hops` of the deepest hop that answered the 4xx (its callers passed it on). */
  hop: number;
  service: string;
  status: number;
  /** The answer's message, as the kit logged it, or null. */
  reason: string | null;
  /** The error code the kit logged (`FST_ERR_CTP_BODY_TOO_LARGE`, ...), or null (a handler's rule). */
  code: string | null;
  by: RefusedBy;
  /** What the code means, when it is a known one. */
  meaning: string | null;
  /** The setting that governs this refusal (`body limit`), when one does; else null. */
  setting: string | null;
  /** The configuration variables of that setting found in the service (filled by `trace`). */
  variables: RefusalSetting[];
}

interface KnownRefusal {
  meaning: string;
  /** The setting that governs it, and how its configuration variables are named. */
  setting?: { what: string; variables: RegExp; fallback: string };
}

/**
 * Fastify's (and its plugins') refusals that can reach a client, by error code (fastify
 * lib/errors.js). A code not listed here is still told apart from a handler's rule.
 */
const FRAMEWORK_REFUSALS: Record<string, KnownRefusal> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    meaning: "the body is larger than the service's body limit",
    setting: {
      what: 'body limit',
      variables: /BODY_?LIMIT/i,
      fallback: "the bodyLimit passed to the kit's createApp (the kit's default when none is)",
    },
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    meaning:
      "no content-type parser of the service takes the request's Content-Type (JSON is what the kit parses)",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { meaning: 'the request says Content-Type: application/json but has no body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { meaning: 'the body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { meaning: 'the Content-Length header does not match the body' },
  FST_ERR_BAD_URL: { meaning: 'the URL cannot be decoded' },
  FST_ERR_ASYNC_CONSTRAINT: { meaning: "the request matched none of the route's constraints" },
};

/** A rate limit answers 429 from an error without a code (@fastify/rate-limit). */
const RATE_LIMITED: KnownRefusal = {
  meaning: 'a rate limit refused it (too many requests in its time window)',
  setting: {
    what: 'rate limit',
    variables: /RATE_?LIMIT/i,
    fallback: 'the rateLimit options of the route or of the plugin registration',
  },
};

const VALIDATION = 'FST_ERR_VALIDATION';

/** What a refusal with this code (or, without one, this status) is known to mean. */
const knownRefusal = (code: string | null, status: number): KnownRefusal | undefined =>
  code ? FRAMEWORK_REFUSALS[code] : status === 429 ? RATE_LIMITED : undefined;

/** Who refused `hop` (a 4xx), from the code the kit logged. Variables are left for `trace` to fill. */
export function classifyRefusal(hop: TraceHop, index: number): TraceRefusal {
  const status = hop.status ?? 0;
  const code = hop.code;
  const known = knownRefusal(code, status);
  const by: RefusedBy =
    code === VALIDATION ? 'schema' : known || code?.startsWith('FST_') ? 'framework' : 'handler';
  return {
    hop: index,
    service: hop.service,
    status,
    reason: hop.reason,
    code,
    by,
    meaning: known?.meaning ?? null,
    setting: known?.setting?.what ?? null,
    variables: [],
  };
}

/** The configuration variables that govern a refusal's setting, by name: what `trace` looks up. */
export function settingVariables(refusal: TraceRefusal): RegExp | undefined {
  if (refusal.by !== 'framework') return undefined;
  return knownRefusal(refusal.code, refusal.status)?.setting?.variables;
}

const fallbackOf = (refusal: TraceRefusal) => knownRefusal(refusal.code, refusal.status)?.setting?.fallback;

/** The summary clause and the next step for a refused request. */
export function describeRefusal(
  refusal: TraceRefusal,
  hop: Pick<TraceHop, 'method' | 'url'>,
): { summary: string; next: string } {
  const route = `${hop.method ?? ''} ${(hop.url ?? '?').split('?')[0]}`;
  const { service, status } = refusal;
  const why = refusal.reason ? `: ${refusal.reason}` : '';
  const codeText = refusal.code ? ` ${refusal.code}` : '';
  if (refusal.by === 'handler') {
    return {
      summary: `refused by ${service} (${status}${why})`,
      next: `a ${status} is an answer, not a crash: if the request was right, read the rule in ${service}'s handler of ${route} that refuses it`,
    };
  }
  if (refusal.by === 'schema') {
    return {
      summary: `refused by the schema of ${service}'s ${route}, before its handler ran (${status}${codeText}${why})`,
      next: `a ${status} from the route's declared schema (Fastify validated the input before the handler ran): if the request was right, read the schema ${service} declares for ${route} (its body, params or querystring)`,
    };
  }
  const summary = `refused by Fastify in ${service} before any handler ran (${status}${codeText}${why})`;
  const meaning =
    refusal.meaning ?? `Fastify or a plugin answered it before the handler (code ${refusal.code ?? 'none'})`;
  if (refusal.setting) {
    const set = refusal.variables.map((variable) => {
      const where =
        variable.source === 'default'
          ? `the default, in ${variable.place}`
          : variable.default !== null && variable.default !== variable.value
            ? `${variable.place}; default ${variable.default}`
            : variable.place;
      return `${variable.name}=${variable.value ?? '(unset)'} (${where})`;
    });
    const governed =
      set.length > 0
        ? `${service}'s ${refusal.setting} is ${set.join(', ')}`
        : `${service}'s ${refusal.setting} is a setting (${fallbackOf(refusal) ?? 'its configuration'})`;
    return {
      summary,
      next: `not a handler's rule: ${meaning}; ${governed}. If the request was right, change that setting and restart ${service}; its effective value and source: pnpm devctl env ${service}`,
    };
  }
  return {
    summary,
    next: `not a handler's rule: ${meaning}${refusal.meaning && refusal.code ? ` (${refusal.code})` : ''}; check the request itself (its headers and body) against what ${service} accepts for ${route}`,
  };
}
