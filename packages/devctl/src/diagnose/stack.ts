// Stack traces: which frame is the project's own code, as a repository-relative TypeScript position,
// and among those which one holds the fix: not a shared pass-through that every call goes through.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceLocation } from './types';

export interface StackFrame {
  fn: string | undefined;
  /** Absolute path (file: URLs decoded), or a `node:` specifier. */
  file: string;
  line: number;
  column: number;
}

// `    at fn (/abs/file.ts:12:9)`, `    at /abs/file.ts:12:9`, `    at async fn (file:///abs/x.ts:1:2)`.
const FRAME = /^\s*at (?:(?:async )?(.+?) \()?((?:file:\/\/)?[^()\s][^()]*?):(\d+):(\d+)\)?\s*$/;

export function parseFrame(line: string): StackFrame | undefined {
  const match = FRAME.exec(line);
  if (!match) return undefined;
  let file = match[2] as string;
  if (file.startsWith('file://')) {
    try {
      file = fileURLToPath(file);
    } catch {
      return undefined;
    }
  }
  return { fn: match[1], file, line: Number(match[3]), column: Number(match[4]) };
}

export function parseFrames(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of stack.split('\n')) {
    const frame = parseFrame(line);
    if (frame) frames.push(frame);
  }
  return frames;
}

/** True for a file the project wrote: inside the root, not a dependency, not built output. */
export function isOwnSource(file: string, root: string): boolean {
  if (!isAbsolute(file)) return false;
  const rel = relative(root, file);
  if (rel.startsWith('..') || isAbsolute(rel)) return false;
  const parts = rel.split(sep);
  return !parts.includes('node_modules') && !parts.includes('dist') && !file.endsWith('.js.map');
}

/** A function called from at least this many places, in at least two other files, is a funnel. */
const FUNNEL_CALL_SITES = 5;

/** A source file's text, and the size and mtime it was read at. */
interface ReadSource {
  file: string;
  text: string;
  size: number;
  mtimeMs: number;
}

// Texts already read, by path. The MCP server and the dashboard run diagnose again and again in one
// process while the user edits the services: a text is reused only while its file keeps the size and
// mtime it was read at (a stat, not a read), so a route or a caller added since is seen at once.
const sourceCache = new Map<string, ReadSource>();

/** The TypeScript sources of a folder (its src/ when it has one), as they are on disk now. */
function sourcesOf(root: string, folder: string): { file: string; text: string }[] {
  const found: { file: string; text: string }[] = [];
  const visit = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (/\.(ts|tsx|mts|js|mjs)$/.test(entry.name) && !/\.d\.ts$/.test(entry.name)) {
        try {
          const { size, mtimeMs } = statSync(path);
          let source = sourceCache.get(path);
          if (!source || source.size !== size || source.mtimeMs !== mtimeMs) {
            source = { file: path, text: readFileSync(path, 'utf8'), size, mtimeMs };
            sourceCache.set(path, source);
          }
          found.push({ file: path, text: source.text });
        } catch {
          // unreadable (or gone since the listing): not counted
        }
      }
    }
  };
  visit(join(root, folder, 'src'));
  return found;
}

/** `Object.query` -> `query`; undefined for anonymous frames. */
function functionName(frame: StackFrame): string | undefined {
  const name = frame.fn
    ?.replace(/^async /, '')
    .split('.')
    .pop();
  if (!name || name === '<anonymous>' || !/^[A-Za-z_$][\w$]*$/.test(name)) return undefined;
  return name;
}

/**
 * True when a function of `file` that appears in the stack is called from many places in other files
 * of the service: the database adapter's `query`, a client wrapper's `request`. Such a frame is on
 * the path of every call; the fix is in the caller that passed it the statement or the URL.
 */
function isFunnel(file: string, frames: StackFrame[], root: string, serviceFolder: string): boolean {
  const names = new Set(
    frames.filter((frame) => frame.file === file).flatMap((frame) => functionName(frame) ?? []),
  );
  if (names.size === 0) return false;
  const others = sourcesOf(root, serviceFolder).filter((source) => source.file !== file);
  for (const name of names) {
    const call = new RegExp(String.raw`[.\s(!]${name.replace(/\$/g, '\\$')}\s*(?:<[^<>()]*>)?\(`, 'g');
    let sites = 0;
    let files = 0;
    for (const source of others) {
      const count = source.text.match(call)?.length ?? 0;
      sites += count;
      if (count > 0) files++;
    }
    if (sites >= FUNNEL_CALL_SITES && files >= 2) return true;
  }
  return false;
}

/** The stack of the error itself, without the stacks of its causes (`caused by: ...`). */
function ownSections(stack: string): string[] {
  return stack.split(/\n\s*caused by: /i);
}

const toLocation = (frame: StackFrame, root: string): SourceLocation => ({
  file: relative(root, frame.file).split(sep).join('/'),
  line: frame.line,
  column: frame.column,
});

/**
 * Where the fix goes: the first frame of `stack` in the project's own code that is not a shared
 * pass-through. A pass-through is decided from the code's structure, not from names: a frame in
 * code outside the failing service's folder (a workspace package such as the service kit, shared by
 * every service) when the stack also runs through the service's own code, or a frame of a funnel
 * (a function of the service that many call sites in other files go through: its database
 * adapter, its HTTP client wrapper). The frames of the thrown error come first; a `caused by`
 * stack is read only when the error's own frames are all outside the project.
 */
export function ownLocation(stack: string, root: string, serviceFolder?: string): SourceLocation | null {
  for (const section of ownSections(stack)) {
    const frames = parseFrames(section).filter((frame) => isOwnSource(frame.file, root));
    if (frames.length === 0) continue;
    const inService = (frame: StackFrame) =>
      serviceFolder !== undefined && relative(root, frame.file).startsWith(`${serviceFolder}${sep}`);
    const serviceFrames = frames.filter(inService);
    if (serviceFrames.length === 0) return toLocation(frames[0] as StackFrame, root);
    const funnels = new Map<string, boolean>();
    const passThrough = (frame: StackFrame) => {
      if (!inService(frame)) return true;
      let funnel = funnels.get(frame.file);
      if (funnel === undefined) {
        funnel = isFunnel(frame.file, frames, root, serviceFolder as string);
        funnels.set(frame.file, funnel);
      }
      return funnel;
    };
    const fix = frames.find((frame) => !passThrough(frame)) ?? serviceFrames[0];
    return toLocation(fix as StackFrame, root);
  }
  return null;
}

const ROUTE = /\.(get|post|put|patch|delete|head|options)\s*(?:<[^>]*>)?\(\s*(['"`])(\/[^'"`]*)\2/g;

/**
 * Where the handler of `method path` is registered in the service's source (`app.get('/forms/:id',
 * ...)`): the most specific registered pattern that matches the path. A slow or hung request has
 * no stack; its handler is where to look.
 */
export function routeLocation(
  root: string,
  serviceFolder: string,
  method: string,
  path: string,
): (SourceLocation & { route: string }) | null {
  let best: (SourceLocation & { route: string; literal: number }) | null = null;
  for (const source of sourcesOf(root, serviceFolder)) {
    for (const match of source.text.matchAll(ROUTE)) {
      if ((match[1] as string).toUpperCase() !== method.toUpperCase()) continue;
      const route = match[3] as string;
      const pattern = route
        .split('/')
        .map((part) =>
          part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/');
      if (!new RegExp(`^${pattern}/?$`).test(path)) continue;
      const literal = route.replace(/:[^/]+/g, '').length;
      if (best && best.literal >= literal) continue;
      const before = source.text.slice(0, match.index);
      const line = before.split('\n').length;
      const column = match.index - before.lastIndexOf('\n');
      best = { file: relative(root, source.file).split(sep).join('/'), line, column, route, literal };
    }
  }
  if (!best) return null;
  const { literal: _literal, ...location } = best;
  return location;
}

/** Replaces absolute paths under the root by repository-relative ones, for shorter evidence. */
export function relativizePaths(text: string, root: string): string {
  const prefix = root.endsWith(sep) ? root : `${root}${sep}`;
  return text.split(`file://${prefix}`).join('').split(prefix).join('');
}

export const formatLocation = (location: SourceLocation) =>
  `${location.file}:${location.line}:${location.column}`;
