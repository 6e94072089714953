// What every tool answers: the data as structuredContent and the same JSON as text (for clients
// that only read text), masked, and bounded so that one call cannot flood an agent's context.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLIError, EXIT_FAILURE } from '../errors';
import { maskDeep } from './mask';

/** The most a result may weigh, as compact JSON. */
export const MAX_RESULT_BYTES = 256 * 1024;
const MAX_STRING_CHARS = 8000;
const MAX_ARRAY_ITEMS = 500;

interface Cuts {
  strings: number;
  items: number;
}

function cut(value: unknown, maxString: number, maxItems: number, cuts: Cuts): unknown {
  if (typeof value === 'string') {
    if (value.length <= maxString) return value;
    cuts.strings++;
    return `${value.slice(0, maxString)}… [${value.length - maxString} more characters]`;
  }
  if (Array.isArray(value)) {
    // Lists are newest-last (logs, evidence): keep the end.
    const kept = value.length > maxItems ? value.slice(-maxItems) : value;
    if (kept.length < value.length) cuts.items += value.length - kept.length;
    return kept.map((item) => cut(item, maxString, maxItems, cuts));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, cut(item, maxString, maxItems, cuts)]),
    );
  }
  return value;
}

const byteLength = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * `data` within MAX_RESULT_BYTES: long strings and long lists are shortened (harder each round)
 * until it fits, and `truncated` says what was cut. Tools that know their data (logs) cut more
 * sensibly first; this is the guard for everything else.
 */
export function bound(data: Record<string, unknown>): Record<string, unknown> {
  if (byteLength(data) <= MAX_RESULT_BYTES) return data;
  let maxString = MAX_STRING_CHARS;
  let maxItems = MAX_ARRAY_ITEMS;
  for (;;) {
    const cuts: Cuts = { strings: 0, items: 0 };
    const shortened = cut(data, maxString, maxItems, cuts) as Record<string, unknown>;
    const note = `the result exceeded ${MAX_RESULT_BYTES} bytes: ${cuts.strings} long strings shortened to ${maxString} characters, ${cuts.items} older list items left out`;
    const bounded = { ...shortened, truncated: true, truncation: note };
    if (byteLength(bounded) <= MAX_RESULT_BYTES || (maxString <= 200 && maxItems <= 10)) return bounded;
    maxString = Math.max(200, Math.floor(maxString / 2));
    maxItems = Math.max(10, Math.floor(maxItems / 2));
  }
}

/** A successful answer: masked, bounded, structured and as JSON text. */
export function jsonResult(data: Record<string, unknown>): CallToolResult {
  const safe = bound(maskDeep(data));
  return { structuredContent: safe, content: [{ type: 'text', text: JSON.stringify(safe) }] };
}

/**
 * A failed call: the message the CLI prints (what failed, which service, the next command), as
 * text, and `{error: {message, exitCode, ...}}` as structured content.
 */
export function errorResult(message: string, detail: Record<string, unknown> = {}): CallToolResult {
  const error = maskDeep({ message, exitCode: EXIT_FAILURE, ...detail });
  return {
    isError: true,
    structuredContent: { error },
    content: [{ type: 'text', text: String(error.message) }],
  };
}

const inFlight = new Set<Promise<unknown>>();

/** Resolves when every tool call under way has answered (a client may close stdin right after asking). */
export async function callsSettled(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}

/** Runs a tool body; a thrown CLIError (unknown service, bad option) becomes an isError result. */
export function answer(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  const call = answerOf(body);
  inFlight.add(call);
  void call.finally(() => inFlight.delete(call));
  return call;
}

async function answerOf(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof CLIError) {
      return errorResult(error.message, { exitCode: error.exitCode, ...error.data });
    }
    const message = error instanceof Error ? error.message : String(error);
    return errorResult(`devctl mcp: ${message}`, { unexpected: true });
  }
}
