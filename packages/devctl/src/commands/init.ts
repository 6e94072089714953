// `devctl init <dir> [--name my-app] [--no-samples]`: a new project from this one. Copies the
// template's files (git's view of them: tracked and not ignored), renames the project (root
// package name, PM2 namespace, other mentions of its name), leaves out the sample services with
// --no-samples (and the project's services that depend on them), writes a fresh .env.example, starts a git repository with the copy as its first
// commit, and prints what to run next.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { ecosystemProblems, findProjectRoot, loadEcosystem } from '../ecosystem/index';
import { CLIError, usageError } from '../errors';
import { c } from '../output/colors';
import { projectNameProblem } from '../scaffold/names';
import { planProject } from '../scaffold/project';
import { isEmptyOrMissing } from '../scaffold/project-files';

export interface InitOptions {
  /** The new project's folder (created; must be missing or empty). */
  dir: string;
  /** The project name; defaults to the folder's name. */
  name?: string;
  /** Keep the sample services (false for --no-samples). */
  samples: boolean;
}

const isInside = (path: string, folder: string) =>
  path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

interface GitStart {
  /** What happened, for the report. */
  line: string;
  /** Whether the copy is the repository's first commit. */
  committed: boolean;
}

const firstLine = (error: unknown) =>
  (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n')[0] || (error as Error).message;

/**
 * `git init`, then the copy as the first commit, with the user's own git identity. Without a commit
 * turbo cannot hash with git (no HEAD): it hashes every package by hand, node_modules and dist
 * included (some 15,000 files for devctl alone), and as dist is among them no build is ever cached:
 * each `pm2:start` or `restart` rebuilds every package (measured, the lean project's gateway and
 * what it depends on: 7 CPU-s every time; once committed 3.5 the first time, then 0.4 from cache).
 * The commit is the template's files as copied, not the user's work: no hooks run on it.
 */
function gitStart(dir: string, message: string): GitStart {
  try {
    execFileSync('git', ['init', '--quiet', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    return {
      line: `git init failed (${firstLine(error)}); run it yourself: cd ${dir} && git init`,
      committed: false,
    };
  }
  try {
    const inDir = { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] as ('ignore' | 'pipe')[], timeout: 60_000 };
    execFileSync('git', ['add', '-A'], inDir);
    execFileSync('git', ['commit', '--quiet', '--no-verify', '-m', message], inDir);
    return { line: `git repository initialised, the copy committed: "${message}"`, committed: true };
  } catch (error) {
    // Most often no user.name/user.email: git's own message says so.
    return {
      line: `git repository initialised, nothing committed (git commit: ${firstLine(error)})`,
      committed: false,
    };
  }
}

/**
 * Lays out the JSON files devctl re-serialised with the project's own formatter (Biome, from the
 * template's node_modules: the new project has none yet), so `pnpm lint` passes in the new project.
 */
function reformat(root: string, target: string, paths: string[]): string | undefined {
  if (paths.length === 0) return undefined;
  const biome = join(root, 'node_modules', '.bin', 'biome');
  if (!existsSync(biome))
    return `not laid out by Biome (not installed here): run pnpm lint --write in the new project`;
  try {
    execFileSync(biome, ['format', '--write', ...paths], {
      cwd: target,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return undefined;
  } catch (error) {
    const reason =
      (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n')[0] ?? (error as Error).message;
    return `Biome could not lay out ${paths.join(', ')} (${reason}); run pnpm format in the new project`;
  }
}

export async function runInit(options: InitOptions): Promise<void> {
  const root = findProjectRoot();
  const target = resolve(process.cwd(), options.dir);
  if (isInside(target, root)) {
    throw usageError(
      `${target} is inside this project (${root}); create the new project next to it, e.g. devctl init ../${basename(target)}`,
    );
  }
  if (isInside(root, target)) {
    throw usageError(`${target} contains this project (${root}); choose a new, empty folder`);
  }
  if (!isEmptyOrMissing(target)) {
    throw new CLIError(
      `${target} already exists and is not empty; choose a new folder (nothing was written)`,
    );
  }
  const name = options.name ?? basename(target);
  const problem = projectNameProblem(name);
  if (problem) {
    throw usageError(
      `"${name}" cannot be the project name: ${problem}. Pass one with --name, e.g. devctl init ${options.dir} --name my-app`,
    );
  }

  const plan = planProject(root, { name, samples: options.samples });

  mkdirSync(target, { recursive: true });
  for (const [path, file] of plan.files) {
    const destination = join(target, path);
    mkdirSync(dirname(destination), { recursive: true });
    writeFileSync(destination, file.content);
    chmodSync(destination, file.mode);
  }

  // The new ecosystem must load and be consistent, or the project would not start.
  const problems = ecosystemProblems(loadEcosystem(target));
  if (problems.length > 0) {
    throw new CLIError(
      `${target} was written, but its ecosystem.config.js has problems (a devctl bug; please report it):\n${problems
        .map((p) => `  ${p.service}: ${p.field}: ${p.message}`)
        .join('\n')}\nDelete the folder before trying again: rm -r ${target}`,
    );
  }
  // Laid out before the first commit, so the commit holds the files as they stay.
  const formatting = reformat(root, target, plan.reformat);
  const commitMessage = `${name}: start from the ${plan.sourceName} template`;
  const git = gitStart(target, commitMessage);

  const fromHere = relative(process.cwd(), target);
  const where = fromHere.startsWith(`..${sep}..`) ? target : fromHere;
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(
    `${c.green('Created')} ${c.bold(name)} in ${target} from ${root} (${plan.files.size} files, listed by ${plan.listedBy === 'git' ? 'git ls-files' : 'a walk of the folder'}${options.samples ? '' : ', without the sample services'}).`,
  );
  out(
    plan.renamed.skippedBecause
      ? `  renamed: package.json name and PM2 namespace to ${name}; other mentions of "${plan.sourceName}" were left alone (${plan.renamed.skippedBecause})`
      : `  renamed: ${plan.sourceName} -> ${name} (package.json name, PM2 namespace, ${plan.renamed.mentions} mentions in ${plan.renamed.files} files)`,
  );
  if (!options.samples) {
    const inGateway = (p: string) => p.startsWith('services/api-gateway/');
    const inWeb = (p: string) => p.startsWith('apps/web/');
    out(`  left out: ${plan.leftOut.filter((p) => !inGateway(p) && !inWeb(p)).join(', ')}`);
    // Not a sample, but it cannot start without one: said, as the user did not ask for it by name.
    for (const dependant of plan.leftOutDependants)
      out(`  also left out ${dependant.name}: it depends on ${dependant.dependsOn.join(', ')}`);
    out(
      `  api-gateway: only /api/health and the generated routes (src/routes/generated.ts); its sample routes and their tests (${plan.leftOut.filter(inGateway).length} files) were left out`,
    );
    out(
      `  apps/web: a start page and the status page (src/App.tsx); the forms pages, their components and tests (${plan.leftOut.filter(inWeb).length} files) were left out`,
    );
    out(`  ecosystem.config.js: ${plan.droppedServices.join(', ')} removed`);
  }
  out(`  .env.example: written fresh; no .env, secrets, logs, data or node_modules were copied`);
  out(`  ${git.line}`);
  if (formatting) out(`  ${c.yellow(formatting)}`);
  out();
  out(c.bold('Next:'));
  out(`  cd ${where}`);
  // turbo caches builds only in a repository with a commit: before the first build, not after.
  if (!git.committed)
    out(`  git add -A && git commit -m "${commitMessage}"   # turbo caches builds once there is a commit`);
  out('  pnpm install');
  out('  pnpm pm2:start                 # builds, starts the backends under PM2, waits until healthy');
  out('  curl http://127.0.0.1:3000/api/health');
  // A route checks the JWT unless it is made public: a project with no service issuing tokens says so.
  // The example is a name the new project does not have yet (the template may have had a billing).
  const taken = new Set([...plan.files.keys()].map((path) => path.split('/').slice(0, 2).join('/')));
  let example = 'billing';
  for (let n = 2; taken.has(`services/${example}`); n++) example = `billing${n}`;
  out(
    `  pnpm devctl new service ${example} --route /api/${example}${plan.droppedServices.includes('auth-service') ? ' --auth public' : ''}   # see docs/new-service.md`,
  );
}
