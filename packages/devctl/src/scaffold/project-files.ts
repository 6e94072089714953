// The files of a project that `devctl init` copies: what git tracks or would track (tracked, plus
// untracked files that are not ignored, so a service created by `devctl new service` and not yet
// committed comes along), or, outside a git checkout, a walk of the folder. Either way, never
// installed or built output, logs, databases, outboxes, local .env files or secrets.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join, sep } from 'node:path';

/** Folders never copied, wherever they are: installs, build caches, VCS data, secrets. */
const NEVER_COPIED_FOLDERS = new Set(['node_modules', '.turbo', '.git', '.secrets', '.pm2-test']);
/**
 * Folders a package writes at run time or build time, at the top of a package (`dist`, `logs`,
 * `coverage`) or of a service (`services/data/data` the database, `services/email/outbox`). Only
 * there: `packages/devctl/src/logs` is source code.
 */
const OUTPUT_FOLDERS_OF_A_PACKAGE = new Set(['dist', 'logs', 'coverage']);
const RUNTIME_FOLDERS_OF_A_SERVICE = new Set(['data', 'outbox']);

/** True when the repository-relative `path` must never be copied into a new project. */
export function isNeverCopied(path: string): boolean {
  const parts = path.split(/[\\/]/);
  const file = parts.at(-1) ?? '';
  const folders = parts.slice(0, -1);
  if (folders.some((part) => NEVER_COPIED_FOLDERS.has(part))) return true;
  if (OUTPUT_FOLDERS_OF_A_PACKAGE.has(folders[0] as string)) return true;
  const inPackage = ['apps', 'packages', 'services'].includes(folders[0] as string);
  if (inPackage && OUTPUT_FOLDERS_OF_A_PACKAGE.has(folders[2] as string)) return true;
  if (folders[0] === 'services' && RUNTIME_FOLDERS_OF_A_SERVICE.has(folders[2] as string)) return true;
  if (file === '.env' || (file.startsWith('.env.') && file !== '.env.example')) return true;
  return file.endsWith('.tsbuildinfo');
}

/**
 * A log file outside the output folders: left behind by a tool when no git says otherwise. Under
 * git, a tracked one is part of the project (devctl's recorded test logs) and an untracked one is
 * ignored (.gitignore lists *.log), so git's list is kept as is.
 */
const isStrayLog = (path: string) => path.endsWith('.log');

function gitFiles(root: string): string[] | undefined {
  try {
    execFileSync('git', ['-C', root, 'rev-parse', '--is-inside-work-tree'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const out = execFileSync(
    'git',
    ['-C', root, 'ls-files', '--cached', '--others', '--exclude-standard', '-z'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return out.split('\0').filter(Boolean);
}

function walkFiles(root: string): string[] {
  const files: string[] = [];
  const folders = [''];
  while (folders.length > 0) {
    const folder = folders.pop() as string;
    for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
      const path = folder ? `${folder}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!isNeverCopied(`${path}/x`)) folders.push(path);
      } else files.push(path);
    }
  }
  return files;
}

export interface ProjectFiles {
  /** Repository-relative paths with `/` separators, sorted. */
  files: string[];
  /** Where the list came from. */
  source: 'git' | 'walk';
}

/** The files of the project at `root` that a new project made from it gets. */
export function listProjectFiles(root: string): ProjectFiles {
  const fromGit = gitFiles(root);
  const source = fromGit ? 'git' : 'walk';
  const files = (fromGit ?? walkFiles(root))
    .map((path) => path.split(sep).join('/'))
    .filter((path) => !isNeverCopied(path) && (fromGit !== undefined || !isStrayLog(path)))
    // `ls-files --cached` still lists a tracked file deleted from the work tree.
    .filter((path) => {
      try {
        const stat = lstatSync(join(root, path));
        return stat.isFile() || stat.isSymbolicLink();
      } catch {
        return false;
      }
    })
    .sort();
  return { files, source };
}

/** True when `folder` does not exist or is an empty folder. */
export function isEmptyOrMissing(folder: string): boolean {
  if (!existsSync(folder)) return true;
  return lstatSync(folder).isDirectory() && readdirSync(folder).length === 0;
}

/** True when the buffer looks like text (no NUL byte in its first 8 KiB), so it may be edited. */
export function isText(content: Buffer): boolean {
  return !content.subarray(0, 8192).includes(0);
}

/** `text` with every whole-word, case-sensitive occurrence of `from` replaced by `to`, and how many. */
export function renameWord(text: string, from: string, to: string): { text: string; count: number } {
  const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let count = 0;
  const replaced = text.replace(new RegExp(`(?<![\\w])${escaped}(?![\\w])`, 'g'), () => {
    count++;
    return to;
  });
  return { text: replaced, count };
}
