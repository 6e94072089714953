// Stack traces: which frame is the project's own code, as a repository-relative TypeScript position.
import { isAbsolute, relative, sep } from 'node:path';
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

/**
 * The first frame of `stack` in the project's own source, preferring the failing service's folder
 * (a frame in a shared workspace package comes second), as a repository-relative location.
 */
export function ownLocation(stack: string, root: string, serviceFolder?: string): SourceLocation | null {
  const frames = parseFrames(stack).filter((frame) => isOwnSource(frame.file, root));
  const inService = serviceFolder
    ? frames.find((frame) => relative(root, frame.file).startsWith(`${serviceFolder}${sep}`))
    : undefined;
  const frame = inService ?? frames[0];
  if (!frame) return null;
  return { file: relative(root, frame.file).split(sep).join('/'), line: frame.line, column: frame.column };
}

/** Replaces absolute paths under the root by repository-relative ones, for shorter evidence. */
export function relativizePaths(text: string, root: string): string {
  const prefix = root.endsWith(sep) ? root : `${root}${sep}`;
  return text.split(`file://${prefix}`).join('').split(prefix).join('');
}

export const formatLocation = (location: SourceLocation) =>
  `${location.file}:${location.line}:${location.column}`;
