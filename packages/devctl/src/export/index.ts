// `devctl export compose|kubernetes`, the domain: read the ecosystem and each service's schema
// (read-config.ts), decide the deployment (plan.ts), generate the files (pure), write them without
// losing a hand edit (write.ts). The CLI command and any other face call exportStack.
import type { Ecosystem } from '../ecosystem/index';
import { composeFiles } from './compose';
import { dockerfile } from './dockerfile';
import { kubernetesFiles } from './kubernetes';
import { planDeployment } from './plan';
import { readExportInput } from './read-config';
import type { DeployPlan, ExportInput, ExportProblem, GeneratedFile } from './types';
import { type WriteResult, writeGenerated } from './write';

export type ExportTarget = 'compose' | 'kubernetes';
export const EXPORT_TARGETS: ExportTarget[] = ['compose', 'kubernetes'];

/** Every file of a target, sorted by path: the same plan gives byte-identical files. */
export function generateFiles(target: ExportTarget, plan: DeployPlan): GeneratedFile[] {
  const files = [...dockerfile(plan), ...(target === 'compose' ? composeFiles(plan) : kubernetesFiles(plan))];
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The files of a target from what read-config found, or the reasons the export refuses. */
export function generateFromInput(
  target: ExportTarget,
  input: ExportInput,
): { files: GeneratedFile[]; problems: ExportProblem[] } {
  const { plan, problems } = planDeployment(input);
  if (problems.length > 0) return { files: [], problems };
  return { files: generateFiles(target, plan), problems: [] };
}

export interface ExportResult {
  target: ExportTarget;
  problems: ExportProblem[];
  write: WriteResult | null;
  /** What to run next. */
  next: string;
}

export const NEXT_STEP: Record<ExportTarget, string> = {
  compose:
    'cp deploy/.env.example deploy/.env (set each secret), then docker compose -f deploy/compose.yaml up --build',
  kubernetes:
    'build and push the images (docker compose -f deploy/compose.yaml build, or deploy/Dockerfile), cp deploy/k8s/overlays/production/secrets.env.example deploy/k8s/overlays/production/secrets.env (set each secret), then kubectl apply -k deploy/k8s/overlays/production',
};

export async function exportStack(
  ecosystem: Ecosystem,
  target: ExportTarget,
  options: { force: boolean },
): Promise<ExportResult> {
  const read = await readExportInput(ecosystem);
  if (read.problems.length > 0) {
    return {
      target,
      problems: read.problems,
      write: null,
      next: 'devctl env <service> (the configuration the service resolves)',
    };
  }
  const { files, problems } = generateFromInput(target, read.input);
  if (problems.length > 0)
    return {
      target,
      problems,
      write: null,
      next: 'fix ecosystem.config.js or the schema named, then run the export again',
    };
  return {
    target,
    problems: [],
    write: writeGenerated(ecosystem.root, files, options.force),
    next: NEXT_STEP[target],
  };
}
