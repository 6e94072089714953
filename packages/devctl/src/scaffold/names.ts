// The names a scaffolded service or project gets, and the checks on them. A service name becomes a
// folder (services/<name>), a package (@repo/<name>), a PM2 name (<name>-service), a config
// variable (<NAME>_SERVICE_URL, @repo/stack-contract's serviceUrlVariable) and a TypeScript identifier, so it is stricter than npm's rules:
// lowercase words of letters and digits joined by single hyphens.
import { usageError } from '../errors';

const WORDS = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_SERVICE_NAME = 40;

/** Names of things every project of this template has, so a service cannot take them. */
const TAKEN_BY_THE_TEMPLATE = new Set([
  'api-gateway',
  'gateway',
  'web',
  'devctl',
  'service-kit',
  'stack-contract',
  'test-utils',
]);

/** Why `name` cannot be a service name, or undefined when it can. */
export function serviceNameProblem(name: string): string | undefined {
  if (name === '') return 'the name is empty';
  if (name.length > MAX_SERVICE_NAME) return `it is longer than ${MAX_SERVICE_NAME} characters`;
  if (/[A-Z]/.test(name) && WORDS.test(name.toLowerCase())) return `use lowercase: ${name.toLowerCase()}`;
  if (!WORDS.test(name)) {
    return 'use lowercase letters and digits in words joined by single hyphens, starting with a letter (e.g. billing, user-profile)';
  }
  if (name.endsWith('-service') || name === 'service') {
    const base = name.replace(/-?service$/, '');
    return `leave out "-service": devctl adds it to the PM2 name${base ? ` (run: devctl new service ${base})` : ''}`;
  }
  if (TAKEN_BY_THE_TEMPLATE.has(name)) return `${name} is a package of the template itself`;
  return undefined;
}

/** Throws a usage error (exit 2) naming the problem with `name`. */
export function assertServiceName(name: string, command: string): void {
  const problem = serviceNameProblem(name);
  if (problem) {
    throw usageError(`"${name}" is not a valid service name: ${problem}. (usage: devctl ${command} <name>)`, {
      name,
      problem,
    });
  }
}

/** Words too common in this template's code and paths to be renamed safely in a later `devctl init`. */
const TOO_GENERIC = new Set([
  'api',
  'app',
  'apps',
  'auth',
  'bench',
  'client',
  'config',
  'data',
  'dist',
  'docs',
  'email',
  'form',
  'logs',
  'node',
  'packages',
  'repo',
  'server',
  'service',
  'services',
  'src',
  'test',
  'web',
]);

/** Why `name` cannot be a project name, or undefined when it can. */
export function projectNameProblem(name: string): string | undefined {
  if (name === '') return 'the name is empty';
  if (name.length > 50) return 'it is longer than 50 characters';
  if (/[A-Z]/.test(name) && WORDS.test(name.toLowerCase())) return `use lowercase: ${name.toLowerCase()}`;
  if (!WORDS.test(name)) {
    return 'use lowercase letters and digits in words joined by single hyphens, starting with a letter (e.g. my-app)';
  }
  // The name becomes the PM2 namespace and is replaced as a word across the files of a project made
  // from this one, so it must not be a word the code uses for something else.
  if (name.length < 3 || TOO_GENERIC.has(name))
    return `"${name}" is too generic (it appears in code and paths)`;
  return undefined;
}

/** The derived names of a service called `name`. */
export interface ServiceNames {
  /** e.g. `billing`: the folder under services/. */
  name: string;
  /** e.g. `billing-service`. */
  pm2Name: string;
  /** e.g. `@repo/billing`. */
  packageName: string;
  /** e.g. `services/billing`. */
  folder: string;
}

export function serviceNames(name: string): ServiceNames {
  return { name, pm2Name: `${name}-service`, packageName: `@repo/${name}`, folder: `services/${name}` };
}

/** `data-service` -> `dataService`. */
export const camelCase = (words: string): string =>
  words.replace(/-([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());

/** `user-profile` -> `UserProfile`. */
export const pascalCase = (words: string): string => {
  const camel = camelCase(words);
  return camel.charAt(0).toUpperCase() + camel.slice(1);
};
