// `devctl remove service <name> [--yes]`: the reverse of `devctl new service`. Deletes the service
// from PM2 if it is there, then its ecosystem.config.js line, its gateway entry (route, URL
// variable), its rows in the docs' service tables, its place in the packages that depend on it,
// and its folder. Asks first on a terminal; elsewhere --yes is required.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { serviceUrlVariable } from '@repo/stack-contract';
import { loadEcosystem } from '../ecosystem/index';
import { CLIError, usageError } from '../errors';
import { c } from '../output/colors';
import { deleteProcess, processList, withDaemon } from '../pm2/index';
import { parseServiceLines, removeServiceLine } from '../scaffold/ecosystem-text';
import {
  GATEWAY_ENV_EXAMPLE,
  parseGeneratedRoutes,
  REGISTRY_FILE,
  removeEnvExample,
  removeGeneratedRoute,
} from '../scaffold/gateway-text';
import { assertServiceName, serviceNames } from '../scaffold/names';
import {
  codeNaming,
  DOC_FILES,
  dependantPackages,
  removeServiceRow,
  removeWorkspaceDependency,
} from '../scaffold/service-lists';

export interface RemoveServiceOptions {
  /** The folder name under services/ (as given to `devctl new service`). */
  name: string;
  /** Do not ask for confirmation. */
  yes: boolean;
}

function packageNameOf(folder: string): string {
  try {
    return (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name: string }).name;
  } catch {
    return '';
  }
}

async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

/** Deletes the process from this project's namespace in PM2; what happened, in words. */
async function deleteFromPm2(pm2Name: string, namespace: string): Promise<string> {
  try {
    const outcome = await withDaemon(async (connection) => {
      const process = (await processList(connection, { namespace })).find((p) => p.name === pm2Name);
      if (!process) return 'it was not in PM2';
      await deleteProcess(connection, process.pmId);
      return `deleted from PM2 (it was ${process.status})`;
    });
    return outcome ?? 'no PM2 daemon runs';
  } catch (error) {
    return `${c.yellow('could not delete it from PM2')} (${(error as Error).message}); run: pnpm devctl delete ${pm2Name}`;
  }
}

export async function runRemoveService(options: RemoveServiceOptions): Promise<void> {
  assertServiceName(options.name, 'remove service');
  const ecosystem = loadEcosystem();
  const { root } = ecosystem;
  const names = serviceNames(options.name);
  const serviceDir = join(root, names.folder);

  const ecosystemText = readFileSync(ecosystem.file, 'utf8');
  const line =
    parseServiceLines(ecosystemText).find((l) => l.folder === names.name) ??
    parseServiceLines(ecosystemText).find((l) => l.name === names.pm2Name);
  const pm2Name = line?.name ?? names.pm2Name;
  const registryFile = join(root, REGISTRY_FILE);
  const registryText = existsSync(registryFile) ? readFileSync(registryFile, 'utf8') : undefined;
  const route =
    registryText === undefined
      ? undefined
      : parseGeneratedRoutes(registryText).find((r) => r.service === pm2Name);
  const hasFolder = existsSync(serviceDir);

  if (!line && !route && !hasFolder) {
    const folders = parseServiceLines(ecosystemText).map((l) => l.folder);
    throw usageError(
      `no service "${names.name}": no ${names.folder} folder, no ${names.pm2Name} in ${ecosystem.file}, no gateway route (services: ${folders.join(', ') || 'none'})`,
      { name: names.name, known: folders },
    );
  }
  const dependants = ecosystem.services.filter((s) => s.dependsOn.includes(pm2Name)).map((s) => s.name);
  if (dependants.length > 0) {
    throw new CLIError(
      `${dependants.join(', ')} ${dependants.length === 1 ? 'depends' : 'depend'} on ${pm2Name}; remove it from their depends_on in ${ecosystem.file} (and their code's calls to it) first. Nothing was removed.`,
      1,
      { dependants },
    );
  }

  // Hand-written code elsewhere that calls it (the gateway's clients of the samples): removing the
  // service would leave it calling nothing, and the stack's tests naming a backend that is gone.
  const callers = codeNaming(root, pm2Name, names.folder);
  if (callers.length > 0) {
    throw new CLIError(
      `code outside ${names.folder} still names ${pm2Name} or ${serviceUrlVariable(pm2Name)}: ${callers.join(', ')}; remove those uses first. Nothing was removed.`,
      1,
      { callers },
    );
  }

  const what = [
    hasFolder ? `the folder ${names.folder} (with its .env and logs)` : undefined,
    line ? `${pm2Name} in ecosystem.config.js` : undefined,
    route ? (route.prefix ? `the gateway route ${route.prefix}` : 'its gateway entry') : undefined,
    `${pm2Name} in PM2, if it is there`,
  ].filter(Boolean);
  if (!options.yes) {
    if (!(process.stdin.isTTY && process.stdout.isTTY)) {
      throw usageError(
        `devctl remove service ${names.name} deletes ${what.join(', ')}; not on a terminal, so it cannot ask: pass --yes to confirm`,
      );
    }
    if (!(await confirm(`Remove ${what.join(', ')}?`)))
      throw new CLIError('nothing was removed (not confirmed)');
  }

  const done: string[] = [];
  done.push(`${pm2Name}: ${await deleteFromPm2(pm2Name, ecosystem.namespace)}`);
  if (line) {
    const text = removeServiceLine(ecosystemText, pm2Name) as string;
    writeFileSync(ecosystem.file, text);
    if (loadEcosystem(root).services.some((s) => s.name === pm2Name)) {
      writeFileSync(ecosystem.file, ecosystemText);
      throw new CLIError(
        `${ecosystem.file} still declared ${pm2Name} after its line was removed; the file was restored and nothing else was removed. Remove the entry by hand.`,
      );
    }
    done.push(`ecosystem.config.js: removed ${pm2Name}`);
  }
  if (route && registryText !== undefined) {
    writeFileSync(registryFile, removeGeneratedRoute(registryText, pm2Name) ?? registryText);
    const envExample = join(root, GATEWAY_ENV_EXAMPLE);
    if (existsSync(envExample))
      writeFileSync(envExample, removeEnvExample(readFileSync(envExample, 'utf8'), route));
    done.push(
      `gateway: removed ${route.prefix ?? `${pm2Name} from /api/health`} (${REGISTRY_FILE}, ${GATEWAY_ENV_EXAMPLE})`,
    );
  }
  // Read before the folder goes: its package name is what other packages depend on.
  const packageName = packageNameOf(serviceDir) || names.packageName;
  for (const path of dependantPackages(root, packageName)) {
    if (path === join(names.folder, 'package.json')) continue;
    const file = join(root, path);
    const text = removeWorkspaceDependency(readFileSync(file, 'utf8'), packageName);
    if (text === undefined) continue;
    writeFileSync(file, text);
    done.push(`${path}: removed ${packageName}`);
  }
  for (const path of DOC_FILES) {
    const file = join(root, path);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const without = removeServiceRow(text, pm2Name);
    if (without === text) continue;
    writeFileSync(file, without);
    done.push(`${path}: removed its row`);
  }
  if (hasFolder) {
    rmSync(serviceDir, { recursive: true, force: true });
    done.push(`deleted ${names.folder}`);
  }

  const out = (text = '') => process.stdout.write(`${text}\n`);
  out(`${c.green('Removed')} ${c.bold(pm2Name)}`);
  for (const item of done) out(`  ${item}`);
  out();
  out(c.bold('Next:'));
  out('  pnpm install   # drops it from pnpm-lock.yaml');
  if (route) out('  pnpm devctl restart api-gateway --wait   # forgets it (route, /api/health)');
  if (existsSync(join(root, 'deploy', 'compose.yaml'))) out('  pnpm devctl export compose');
  if (existsSync(join(root, 'deploy', 'k8s'))) out('  pnpm devctl export kubernetes');
}
