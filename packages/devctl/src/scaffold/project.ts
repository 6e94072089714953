// The files of a new project made from this one (`devctl init`): the template's files, renamed,
// and without the samples when asked. Computed in memory first, so nothing is written when the
// template cannot be turned into a consistent project.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST, rehashManifest } from '../export/write';
import { parseServiceLines, removeServiceLine, rewriteDependencies, setNamespace } from './ecosystem-text';
import {
  appendEnvExample,
  GATEWAY_ENV_EXAMPLE,
  parseGeneratedRoutes,
  REGISTRY_FILE,
  removeGeneratedRoute,
} from './gateway-text';
import { projectNameProblem } from './names';
import { isText, listProjectFiles, renameWord } from './project-files';
import {
  GATEWAY,
  GATEWAY_SAMPLE_DEPENDENCIES,
  isSamplePath,
  type LeftOutDependant,
  servicesLeftOut,
} from './samples';
import { DOC_FILES, removeServiceRow } from './service-lists';
import { filesUnder, templatesDir } from './templates';

export interface PlannedFile {
  content: Buffer;
  mode: number;
}

export interface ProjectPlan {
  files: Map<string, PlannedFile>;
  /** Where the file list came from: `git ls-files` or a walk of the folder. */
  listedBy: 'git' | 'walk';
  sourceName: string;
  /** Mentions of the source project's name replaced, and the files they were in. */
  renamed: { mentions: number; files: number; skippedBecause?: string };
  /** Paths left out as samples (folders summarised as `services/auth/`). */
  leftOut: string[];
  /** PM2 names of the services left out: the samples, then those that depend on them. */
  droppedServices: string[];
  /** The project's own services left out because they depend on a left-out one, and on which. */
  leftOutDependants: { name: string; dependsOn: string[] }[];
  /** JSON files re-serialised after an edit, to lay out again with the project's formatter. */
  reformat: string[];
}

export interface PlanOptions {
  name: string;
  samples: boolean;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

/** package.json without dependencies on `dropped` packages; undefined when nothing changed. */
function withoutDependencies(text: string, dropped: Set<string>): string | undefined {
  const pkg = JSON.parse(text) as Record<string, Record<string, string> | unknown>;
  let changed = false;
  for (const field of DEPENDENCY_FIELDS) {
    const deps = pkg[field] as Record<string, string> | undefined;
    if (!deps) continue;
    for (const name of Object.keys(deps)) {
      if (dropped.has(name)) {
        delete deps[name];
        changed = true;
      }
    }
  }
  return changed ? json(pkg) : undefined;
}

/** turbo.json without `dependsOn` entries on tasks of `dropped` packages; undefined when unchanged. */
function withoutTurboDependencies(text: string, dropped: Set<string>): string | undefined {
  const config = JSON.parse(text) as { tasks?: Record<string, { dependsOn?: string[] }> };
  let changed = false;
  for (const task of Object.values(config.tasks ?? {})) {
    if (!task.dependsOn) continue;
    const kept = task.dependsOn.filter((entry) => !dropped.has(entry.split('#')[0] as string));
    if (kept.length !== task.dependsOn.length) {
      task.dependsOn = kept;
      changed = true;
    }
  }
  return changed ? json(config) : undefined;
}

function rootEnvExample(name: string, samples: boolean): string {
  const lines = [
    "# Root .env: values shared by every service. Copy to .env and edit; a service's own",
    '# services/<folder>/.env overrides these, and the process environment overrides both.',
    '# Each service documents its own variables in services/<folder>/.env.example.',
    '',
    '# Log level of every service: fatal, error, warn, info, debug, trace, silent',
    '# LOG_LEVEL=info',
    '',
    `# Secret that signs and verifies login tokens (${samples ? 'auth-service and ' : ''}api-gateway). At least 32`,
    '# characters. When unset outside production, one is generated in .secrets/jwt-secret.',
    '# JWT_SECRET=',
  ];
  if (samples) {
    lines.push(
      '',
      '# Use PostgreSQL instead of the embedded database (data-service).',
      `# DATABASE_URL=postgres://user:password@127.0.0.1:5432/${name}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const ARCHITECTURE_NOTE = (leftOut: string[]) =>
  `> This project was made with \`devctl init --no-samples\`: the sample services described below
> (${leftOut.join(', ')}) are not in it, nor are the frontend's forms pages. api-gateway, the
> service kit, devctl, test-utils and the frontend's shell (a start page and the status page) are.
> \`docs/new-service.md\` adds a service.
`;

/** The files of the new project, in memory. */
export function planProject(root: string, options: PlanOptions): ProjectPlan {
  const { files: paths, source } = listProjectFiles(root);
  const read = (path: string) => readFileSync(join(root, path));
  const rootPackage = JSON.parse(read('package.json').toString('utf8')) as { name?: string };
  const sourceName = String(rootPackage.name ?? '');

  const ecosystemText = read('ecosystem.config.js').toString('utf8');
  const serviceLines = parseServiceLines(ecosystemText);
  // A service of the project that needs a sample (directly or through another) could not start in
  // the lean project: it is left out with them, everything init does for a sample done for it too.
  const { samples: sampleLines, dependants } = options.samples
    ? { samples: [], dependants: [] as LeftOutDependant[] }
    : servicesLeftOut(serviceLines);
  const droppedLines = [...sampleLines, ...dependants.map((d) => d.line)];
  const droppedServices = droppedLines.map((line) => line.name);
  const droppedFolders = droppedLines.map((line) => line.folder);
  const droppedPackages = new Set<string>();
  /** Package folders outside services/ that depend on a sample: they only exist to test them. */
  const harnesses: string[] = [];
  if (!options.samples) {
    const manifests = paths.filter((path) => /^(apps|packages|services)\/[^/]+\/package\.json$/.test(path));
    const manifest = (path: string) =>
      JSON.parse(read(path).toString('utf8')) as { name?: string } & Record<string, unknown>;
    for (const path of manifests) {
      const name = manifest(path).name;
      if (name && isSamplePath(path, [], droppedFolders)) droppedPackages.add(name);
    }
    for (const path of manifests) {
      if (path.startsWith('services/')) continue;
      const pkg = manifest(path);
      const deps = DEPENDENCY_FIELDS.flatMap((field) =>
        Object.keys((pkg[field] as object | undefined) ?? {}),
      );
      if (deps.some((dep) => droppedPackages.has(dep))) {
        harnesses.push(path.slice(0, -'/package.json'.length));
        if (pkg.name) droppedPackages.add(pkg.name);
      }
    }
  }

  // Renaming every mention is safe only for a name that is not also an ordinary word of the code.
  const renameProblem = sourceName === options.name ? 'it is the same name' : projectNameProblem(sourceName);
  const renamed = { mentions: 0, files: 0, skippedBecause: renameProblem };

  const files = new Map<string, PlannedFile>();
  const leftOut = new Set<string>();
  const reformat: string[] = [];
  for (const path of paths) {
    // deploy/ is `devctl export`'s output for the services of this ecosystem: a lean project has
    // not those services, and generates its own with the export.
    if (!options.samples && path.startsWith('deploy/')) {
      leftOut.add('deploy/');
      continue;
    }
    if (!options.samples && isSamplePath(path, harnesses, droppedFolders)) {
      const [top, folder] = path.split('/');
      const harness = harnesses.find((h) => path.startsWith(`${h}/`));
      leftOut.add(
        top === 'services' && folder && droppedFolders.includes(folder)
          ? `services/${folder}/`
          : harness
            ? `${harness}/`
            : path,
      );
      continue;
    }
    let content = read(path);
    const mode = statSync(join(root, path)).mode & 0o777;
    if (isText(content) && path !== 'pnpm-lock.yaml') {
      let text = content.toString('utf8');
      if (!renameProblem) {
        const replaced = renameWord(text, sourceName, options.name);
        if (replaced.count > 0) {
          renamed.mentions += replaced.count;
          renamed.files++;
          text = replaced.text;
        }
      }
      if (!options.samples && path.endsWith('package.json')) {
        const dropped = new Set(droppedPackages);
        if (path === `${GATEWAY}/package.json`)
          for (const dep of GATEWAY_SAMPLE_DEPENDENCIES) dropped.add(dep);
        const edited = withoutDependencies(text, dropped);
        if (edited !== undefined) {
          text = edited;
          reformat.push(path);
        }
      }
      if (!options.samples && path.endsWith('turbo.json')) {
        const edited = withoutTurboDependencies(text, droppedPackages);
        if (edited !== undefined) {
          text = edited;
          reformat.push(path);
        }
      }
      content = Buffer.from(text, 'utf8');
    }
    files.set(path, { content, mode });
  }

  const setText = (path: string, text: string, mode = 0o644) =>
    files.set(path, { content: Buffer.from(text, 'utf8'), mode: files.get(path)?.mode ?? mode });
  const textOf = (path: string) => files.get(path)?.content.toString('utf8') ?? '';

  // deploy/ copied with the project renamed in it is what the export writes for the new name; its
  // manifest records the hashes of the files as written, so the next export updates them.
  if (files.has(MANIFEST))
    setText(
      MANIFEST,
      rehashManifest(textOf(MANIFEST), (path) => files.get(path)?.content),
    );

  // A text edit, so the file keeps its layout.
  setText('package.json', textOf('package.json').replace(/("name"\s*:\s*)"[^"]*"/, `$1"${options.name}"`));

  let ecosystem = setNamespace(textOf('ecosystem.config.js'), options.name);
  for (const name of droppedServices) ecosystem = removeServiceLine(ecosystem, name) ?? ecosystem;
  ecosystem = rewriteDependencies(ecosystem, (line) =>
    line.dependsOn.filter((d) => !droppedServices.includes(d)),
  );
  if (!options.samples && !ecosystem.includes('biome-ignore format')) {
    // With one app left, Biome would pull the array onto one line; keep the layout devctl edits.
    ecosystem = ecosystem.replace(
      /^([ \t]*)apps[ \t]*:[ \t]*\[[ \t]*$/m,
      '$1// biome-ignore format: one service() per line, the layout `devctl new service` adds to\n$&',
    );
  }
  setText('ecosystem.config.js', ecosystem);

  setText('.env.example', rootEnvExample(options.name, options.samples));

  if (!options.samples) {
    const templates = join(templatesDir(), 'no-samples');
    for (const path of filesUnder(templates)) {
      setText(path, readFileSync(join(templates, path), 'utf8'));
    }
    // The page title named the forms sample; the start page is the project's own.
    const webIndex = 'apps/web/index.html';
    if (files.has(webIndex))
      setText(webIndex, textOf(webIndex).replace(/<title>[^<]*<\/title>/, `<title>${options.name}</title>`));
    // The routes the template had generated stay, and so do their URL variables, but for the
    // services left out: the gateway would probe and forward to a backend that is not there.
    if (files.has(REGISTRY_FILE)) {
      let registry = textOf(REGISTRY_FILE);
      for (const name of droppedServices) registry = removeGeneratedRoute(registry, name) ?? registry;
      setText(REGISTRY_FILE, registry);
    }
    let envExample = textOf(GATEWAY_ENV_EXAMPLE);
    for (const entry of parseGeneratedRoutes(textOf(REGISTRY_FILE)))
      envExample = appendEnvExample(envExample, entry);
    setText(GATEWAY_ENV_EXAMPLE, envExample);
    // The docs' service tables list what the new project runs, not the samples it left out.
    for (const path of DOC_FILES) {
      if (!files.has(path)) continue;
      let text = textOf(path);
      for (const name of droppedServices) text = removeServiceRow(text, name);
      setText(path, text);
    }
    if (files.has('docs/architecture.md')) {
      const text = textOf('docs/architecture.md');
      const cut = text.indexOf('\n') + 1;
      const note = ARCHITECTURE_NOTE(sampleLines.map((l) => l.name));
      setText('docs/architecture.md', `${text.slice(0, cut)}\n${note}${text.slice(cut)}`);
    }
  }

  return {
    files,
    listedBy: source,
    sourceName,
    renamed,
    leftOut: [...leftOut].sort(),
    droppedServices,
    leftOutDependants: dependants.map((d) => ({ name: d.line.name, dependsOn: d.dependsOn })),
    reformat,
  };
}
