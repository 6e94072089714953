// From what the ecosystem and the schemas say to how each backend runs once deployed. Pure: the
// same input gives the same plan, so the generated files are deterministic. The rules are by class
// of variable, not by service, so a service added with `devctl new service` exports too:
// - `<NAME>_URL` of a backend of the ecosystem (`data-service` -> DATA_SERVICE_URL) points at that
//   backend's name on the network; a `*_SERVICE_URL` naming no backend is refused.
// - a secret (by name, as devctl masks it, or DATABASE_URL, whose URL holds a password) is never
//   given a value: the operator provides it; the kit's production dry run tells which are required.
// - DATABASE_URL: the deployment gives the service PostgreSQL (SQLite is one file on one machine).
// - `*_DIR`: a folder the service writes to (the email outbox), mounted as a volume.
// - the ecosystem's own env (other than NODE_ENV and PORT, which the deployment decides) is kept.
// Every other variable keeps its schema default: the service applies it itself.

import { isSecretName, isServiceUrlVariable, serviceUrlVariable } from '@repo/stack-contract';
import type {
  DeployPlan,
  ExportInput,
  ExportProblem,
  ExportService,
  SecretSetting,
  ServicePlan,
  VolumeSetting,
} from './types';

/** The variable that selects PostgreSQL (data-service's schema; diagnose knows it by the same name). */
export const DATABASE_URL = 'DATABASE_URL';
/** Where `*_DIR` volumes are mounted inside the container (writable by the non-root user). */
export const STATE_ROOT = '/var/lib/app';

const DIRECTORY = /^[A-Z0-9_]+_DIR$/;
/** Decided by the deployment, whatever the ecosystem's env says (it is the development one). */
const DEPLOYMENT_DECIDES = new Set(['NODE_ENV', 'PORT', 'HOST']);

export function isSecretVariable(name: string): boolean {
  return isSecretName(name) || name === DATABASE_URL;
}

/** The address of a backend on the deployment's network: its name is its host name. */
export function serviceAddress(service: Pick<ExportService, 'name' | 'port'>): string {
  return `http://${service.name}:${service.port}`;
}

/** The kebab-case of a variable, for volume names: EMAIL_OUTBOX_DIR -> outbox (the service's own prefix dropped). */
function volumeName(service: ExportService, variable: string): string {
  const words = variable
    .replace(/_DIR$/, '')
    .toLowerCase()
    .split('_')
    .filter((word) => !service.name.split('-').includes(word));
  return `${service.name}-${words.join('-') || 'data'}`;
}

function sortedRecord(entries: [string, string][]): Record<string, string> {
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function planService(
  service: ExportService,
  byUrlVariable: Map<string, ExportService>,
  problems: ExportProblem[],
): ServicePlan {
  const settings: [string, string][] = [];
  const optional: string[] = [];
  const secrets: SecretSetting[] = [];
  const volumes: VolumeSetting[] = [];
  const names = new Set(service.variables.map((variable) => variable.name));
  const required = new Set(service.requiredInProduction);
  const refuse = (message: string) => problems.push({ service: service.name, message });

  if (names.has('NODE_ENV')) settings.push(['NODE_ENV', 'production']);
  settings.push(['PORT', String(service.port)]);
  // Loopback is the kit's default (safe on a laptop); in a container other services must reach it.
  if (names.has('HOST')) settings.push(['HOST', '0.0.0.0']);

  for (const variable of service.variables) {
    const { name } = variable;
    if (DEPLOYMENT_DECIDES.has(name)) continue;
    const target = byUrlVariable.get(name);
    if (target) {
      settings.push([name, serviceAddress(target)]);
      continue;
    }
    if (isServiceUrlVariable(name)) {
      refuse(
        `${name} names no backend of ecosystem.config.js (a backend's variable is its PM2 name in capitals with _URL, e.g. data-service -> DATA_SERVICE_URL); rename it or add the backend`,
      );
      continue;
    }
    if (isSecretVariable(name)) {
      if (variable.source === 'process') {
        refuse(
          `${name} is a secret set in ecosystem.config.js: it would be written into the deployment files; move it to the service's .env (git-ignored) and provide it to the deployment as a secret`,
        );
        continue;
      }
      secrets.push({ name, required: required.has(name) || name === DATABASE_URL });
      continue;
    }
    if (required.has(name)) {
      refuse(
        `${name} is required in production and has no default; set it in ecosystem.config.js (env) so the deployment carries it`,
      );
      continue;
    }
    if (DIRECTORY.test(name)) {
      const volume = volumeName(service, name);
      const mountPath = `${STATE_ROOT}/${volume}`;
      volumes.push({ variable: name, volume, mountPath });
      settings.push([name, mountPath]);
      continue;
    }
    if (variable.source === 'process' && name in service.ecosystemEnv) {
      settings.push([name, service.ecosystemEnv[name] as string]);
      continue;
    }
    if (variable.value === null) optional.push(name);
  }

  const script = service.script.replace(/^\.\//, '');
  if (!script.startsWith('dist/')) {
    refuse(
      `its script ${service.script} is not a built file under dist/: the image holds only dist/ (set script to the bundle, e.g. dist/index.js)`,
    );
  }
  return {
    service,
    settings: sortedRecord(settings),
    optional: [...optional].sort(),
    secrets: [...secrets].sort((a, b) => (a.name < b.name ? -1 : 1)),
    volumes,
    usesPostgres: names.has(DATABASE_URL),
    command: ['node', ...service.nodeArgs, script],
  };
}

/** The deployment of every backend, or the reasons it would not work (each with its service). */
export function planDeployment(input: ExportInput): { plan: DeployPlan; problems: ExportProblem[] } {
  const problems: ExportProblem[] = [];
  const byUrlVariable = new Map(input.services.map((service) => [serviceUrlVariable(service.name), service]));
  const known = new Set(input.services.map((service) => service.name));
  for (const service of input.services) {
    for (const dependency of service.dependsOn) {
      if (!known.has(dependency)) {
        problems.push({
          service: service.name,
          message: `depends_on names ${dependency}, which is not a backend of ecosystem.config.js`,
        });
      }
    }
  }
  const services = [...input.services]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((service) => planService(service, byUrlVariable, problems));
  return { plan: { namespace: input.namespace, services }, problems };
}

/** The image of a backend; one per service, built from the one workspace Dockerfile. */
export function imageOf(namespace: string, service: Pick<ExportService, 'name'>): string {
  return `${namespace}/${service.name}:latest`;
}

/** PM2's `max_memory_restart` (`512M`, `1G`, `300K`, bytes) in bytes, as PM2 reads it (K = 1024). */
export function parseMemory(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.floor(value);
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([KMG])?B?\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(match[2] ?? '').toUpperCase()] ?? 1;
  return Math.floor(Number(match[1]) * unit);
}
