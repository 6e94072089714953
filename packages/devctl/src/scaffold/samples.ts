// What `devctl init --no-samples` leaves out: the sample backends (auth, form, email, data, worker, scheduler), every
// service of the project that depends on one of them (directly or through another: it could not
// start without them), and what exists only to exercise them. api-gateway, the service kit,
// devctl, test-utils, the frontend's shell and the project's own services that need no sample stay.
import type { ServiceLine } from './ecosystem-text';

/** Folders under services/ of the sample backends. */
export const SAMPLE_SERVICE_FOLDERS = ['auth', 'data', 'email', 'form', 'scheduler', 'worker'];

/**
 * Other paths (a trailing `/` means a folder) that only test the samples. Packages under apps/ and
 * packages/ that depend on a sample service (stack-tests and the like) are found from their
 * package.json instead (see planProject).
 */
export const SAMPLE_ONLY_PATHS = [
  // The browser flow through signup, forms and submissions (the hot-reload test stays).
  'apps/web/e2e/flow.test.ts',
  // The frontend's forms pages and their components. Its shell stays (router, error display,
  // api/client.ts, the session that StatusPage and useAsync use, the status page);
  // templates/no-samples/ replaces App.tsx, its test and README.md with a start page.
  'apps/web/src/pages/AuthPage.tsx',
  'apps/web/src/pages/FormsPage.tsx',
  'apps/web/src/pages/FillFormPage.tsx',
  'apps/web/src/pages/SubmissionsPage.tsx',
  'apps/web/src/components/FormBuilder.tsx',
  'apps/web/src/components/FormBuilder.test.tsx',
  'apps/web/src/components/SubmissionForm.tsx',
  'apps/web/src/components/SubmissionForm.test.tsx',
];

/** api-gateway's folder under services/, and its path. */
const GATEWAY_FOLDER = 'api-gateway';
export const GATEWAY = `services/${GATEWAY_FOLDER}`;

/**
 * The files of api-gateway's src/ and test/ kept without the samples: the entry, token checks,
 * /api/health and the generated routes. Its other files there (auth and form routes, their
 * schemas and upstreams, and their tests) serve the samples; templates/no-samples/ replaces app.ts,
 * config.ts, the config and process tests, README.md and .env.example.
 */
export const GATEWAY_KEPT = new Set([
  'src/index.ts',
  'src/authenticate.ts',
  'src/routes/health.ts',
  'src/routes/forward.ts',
  'src/routes/generated.ts',
  'test/generated-routes.test.ts',
]);

/** Dependencies of api-gateway that only the sample routes use (the login rate limit). */
export const GATEWAY_SAMPLE_DEPENDENCIES = ['@fastify/rate-limit'];

/** A service of the project left out with the samples, and the left-out services it depends on. */
export interface LeftOutDependant {
  line: ServiceLine;
  dependsOn: string[];
}

/**
 * The ecosystem's services that `--no-samples` leaves out: the samples, then every other service
 * whose depends_on names a left-out one, until none is added (a service that depends on one that
 * depends on a sample goes too). api-gateway stays whatever it depends on: init rewrites its
 * dependencies and replaces its sample routes.
 */
export function servicesLeftOut(lines: readonly ServiceLine[]): {
  samples: ServiceLine[];
  dependants: LeftOutDependant[];
} {
  const samples = lines.filter((line) => SAMPLE_SERVICE_FOLDERS.includes(line.folder));
  const left = new Set(samples.map((line) => line.name));
  const dependants: LeftOutDependant[] = [];
  for (let added = true; added; ) {
    added = false;
    for (const line of lines) {
      if (left.has(line.name) || line.folder === GATEWAY_FOLDER) continue;
      const on = line.dependsOn.filter((dependency) => left.has(dependency));
      if (on.length === 0) continue;
      left.add(line.name);
      dependants.push({ line, dependsOn: on });
      added = true;
    }
  }
  return { samples, dependants };
}

/**
 * True when the repository-relative `path` belongs to the samples: a folder of `serviceFolders`
 * (the sample services and those left out with them), a path of SAMPLE_ONLY_PATHS, a file under one
 * of `harnesses` (package folders such as `packages/stack-tests`), or one of api-gateway's sample
 * routes and tests.
 */
export function isSamplePath(
  path: string,
  harnesses: readonly string[] = [],
  serviceFolders: readonly string[] = SAMPLE_SERVICE_FOLDERS,
): boolean {
  const [top, folder] = path.split('/');
  if (top === 'services' && folder && serviceFolders.includes(folder)) return true;
  if (harnesses.some((harness) => path.startsWith(`${harness}/`))) return true;
  if (SAMPLE_ONLY_PATHS.some((sample) => (sample.endsWith('/') ? path.startsWith(sample) : path === sample)))
    return true;
  if (path.startsWith(`${GATEWAY}/src/`) || path.startsWith(`${GATEWAY}/test/`)) {
    return !GATEWAY_KEPT.has(path.slice(GATEWAY.length + 1));
  }
  return false;
}
