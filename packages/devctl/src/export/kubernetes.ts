// deploy/k8s/ from the plan: a kustomize base with, per backend, a Deployment, a Service, a
// ConfigMap of its plain settings, a HorizontalPodAutoscaler and a PodDisruptionBudget, one Secret for the optional secrets (empty values), and an
// overlay that fills the Secret from a git-ignored file. Liveness probes /health, readiness /ready
// (the service's own dependencies answer), and a startupProbe gives start-up the ecosystem's
// listen_timeout: the ecosystem's start order lives in readiness, as nothing routes to a pod whose
// dependencies are not ready. Memory from max_memory_restart. A required secret (JWT_SECRET,
// DATABASE_URL) is a non-optional reference to a key the base does not define: the pod waits in
// CreateContainerConfigError naming the key until the operator provides it, rather than starting
// with a development default (data-service on SQLite, a generated signing key).

import { imageOf } from './plan';
import type { DeployPlan, GeneratedFile, ServicePlan } from './types';
import { toYaml } from './yaml';

export const K8S_DIR = 'deploy/k8s';
export const BASE_DIR = `${K8S_DIR}/base`;
export const OVERLAY_DIR = `${K8S_DIR}/overlays/production`;
/** The production overlay plus a PostgreSQL StatefulSet, for a cluster without a database server. */
export const POSTGRES_OVERLAY_DIR = `${K8S_DIR}/overlays/with-postgres`;
const POSTGRES_IMAGE = 'postgres:16-bookworm';
const POSTGRES_PASSWORD = 'POSTGRES_PASSWORD';
const MIB = 1024 * 1024;
/**
 * A pod's start-up budget is twice the ecosystem's listen_timeout (a container also loads its image
 * cold), probed every STARTUP_PERIOD_SECONDS.
 */
const STARTUP_PERIOD_SECONDS = 2;

export const secretName = (namespace: string) => `${namespace}-secrets`;
export const configMapName = (service: string) => `${service}-config`;

function labelsOf(namespace: string, service: string): Record<string, string> {
  return { 'app.kubernetes.io/name': service, 'app.kubernetes.io/part-of': namespace };
}

/** Memory in whole MiB, as Kubernetes quantities (`512Mi`). */
const mebibytes = (bytes: number) => `${Math.max(1, Math.ceil(bytes / MIB))}Mi`;

function resourcesOf(service: ServicePlan): Record<string, Record<string, string>> {
  const limit = service.service.maxMemoryBytes;
  if (limit === undefined) return { requests: { cpu: '100m', memory: '128Mi' } };
  // PM2 restarts the process at max_memory_restart; the kubelet kills it at its limit. The request
  // (what the scheduler reserves) is half of it: a service's working set is well below its ceiling.
  return { limits: { memory: mebibytes(limit) }, requests: { cpu: '100m', memory: mebibytes(limit / 2) } };
}

const httpProbe = (path: string, periodSeconds: number, failureThreshold: number) => ({
  failureThreshold,
  httpGet: { path, port: 'http' },
  periodSeconds,
  timeoutSeconds: 3,
});

function deploymentOf(plan: DeployPlan, service: ServicePlan): Record<string, unknown> {
  const { service: entry } = service;
  const labels = labelsOf(plan.namespace, entry.name);
  const secretEnv = service.secrets.map((secret) => ({
    name: secret.name,
    valueFrom: {
      secretKeyRef: {
        key: secret.name,
        name: secretName(plan.namespace),
        ...(secret.required ? {} : { optional: true }),
      },
    },
  }));
  const container: Record<string, unknown> = {
    command: service.command,
    envFrom: [{ configMapRef: { name: configMapName(entry.name) } }],
    image: imageOf(plan.namespace, entry),
    livenessProbe: httpProbe('/health', 10, 3),
    name: entry.name,
    ports: [{ containerPort: entry.port, name: 'http' }],
    readinessProbe: httpProbe('/ready', 5, 2),
    resources: resourcesOf(service),
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    startupProbe: httpProbe(
      '/health',
      STARTUP_PERIOD_SECONDS,
      Math.max(3, Math.ceil((2 * entry.listenTimeoutMs) / 1000 / STARTUP_PERIOD_SECONDS)),
    ),
  };
  if (secretEnv.length > 0) container.env = secretEnv;
  if (service.volumes.length > 0) {
    container.volumeMounts = service.volumes.map((volume) => ({
      mountPath: volume.mountPath,
      name: volume.volume,
    }));
  }
  const podSpec: Record<string, unknown> = {
    containers: [container],
    // The image's `node` user (uid 1000); fsGroup makes mounted volumes writable for it.
    securityContext: { fsGroup: 1000, runAsGroup: 1000, runAsNonRoot: true, runAsUser: 1000 },
    terminationGracePeriodSeconds: Math.max(1, Math.ceil(entry.killTimeoutMs / 1000) + 2),
  };
  if (service.volumes.length > 0) {
    // emptyDir: kept across container restarts, not pod replacement; production sends through SMTP.
    podSpec.volumes = service.volumes.map((volume) => ({ emptyDir: {}, name: volume.volume }));
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      // The ecosystem's depends_on, for people: the gate itself is each dependency's readiness.
      ...(entry.dependsOn.length > 0
        ? { annotations: { 'devctl.dev/depends-on': [...entry.dependsOn].sort().join(',') } }
        : {}),
      labels,
      name: entry.name,
    },
    spec: {
      replicas: entry.instances,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: podSpec },
    },
  };
}

function serviceObjectOf(plan: DeployPlan, service: ServicePlan): Record<string, unknown> {
  const labels = labelsOf(plan.namespace, service.service.name);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { labels, name: service.service.name },
    spec: {
      ports: [{ name: 'http', port: service.service.port, targetPort: 'http' }],
      selector: labels,
    },
  };
}

/** An autoscaled backend runs at most this many times its ecosystem instances (at least this many pods). */
const MAX_REPLICAS = 4;
/** Average CPU use, of the request, above which the autoscaler adds a pod. */
const CPU_TARGET_PERCENT = 70;

/**
 * Every backend can run several replicas on PostgreSQL, which a cluster requires (data-service has
 * no SQLite there): a tick runs once (the scheduler's claim), an email is sent once (email-service's
 * reservation), a job goes to one worker (SKIP LOCKED), migrations run once (an advisory lock) --
 * packages/reliability-tests/test/replicas.test.ts. From the ecosystem's instances (at least one)
 * up to MAX_REPLICAS times as many, on CPU against the request.
 */
function autoscalerOf(plan: DeployPlan, service: ServicePlan): Record<string, unknown> {
  const { service: entry } = service;
  const minimum = Math.max(1, entry.instances);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { labels: labelsOf(plan.namespace, entry.name), name: entry.name },
    spec: {
      maxReplicas: Math.max(MAX_REPLICAS, minimum * MAX_REPLICAS),
      metrics: [
        {
          resource: { name: 'cpu', target: { averageUtilization: CPU_TARGET_PERCENT, type: 'Utilization' } },
          type: 'Resource',
        },
      ],
      minReplicas: minimum,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: entry.name },
    },
  };
}

/**
 * A voluntary disruption (a node drain, an upgrade) takes one pod of a backend at a time: with
 * several replicas the others keep answering; with one, the drain is never blocked for good.
 */
function disruptionBudgetOf(plan: DeployPlan, service: ServicePlan): Record<string, unknown> {
  const labels = labelsOf(plan.namespace, service.service.name);
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { labels, name: service.service.name },
    spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
  };
}

function configMapOf(plan: DeployPlan, service: ServicePlan): Record<string, unknown> {
  const data: Record<string, string> = { ...service.settings };
  // Optional settings left empty: the kit treats an empty value as unset (its default applies).
  for (const name of service.optional) data[name] = '';
  return {
    apiVersion: 'v1',
    data,
    kind: 'ConfigMap',
    metadata: {
      labels: labelsOf(plan.namespace, service.service.name),
      name: configMapName(service.service.name),
    },
  };
}

const yamlDocuments = (objects: unknown[]) => objects.map((object) => toYaml(object)).join('---\n');

const HEADER =
  "# Generated by `devctl export kubernetes` from ecosystem.config.js and the services' configuration\n# schemas: regenerate rather than edit (customise in an overlay).\n";

/** Every Secret key any backend reads, and whether one of them requires it. */
function secretKeys(plan: DeployPlan): Map<string, { required: boolean; services: string[] }> {
  const keys = new Map<string, { required: boolean; services: string[] }>();
  for (const service of plan.services) {
    for (const secret of service.secrets) {
      const key = keys.get(secret.name) ?? { required: false, services: [] };
      key.required ||= secret.required;
      key.services.push(service.service.name);
      keys.set(secret.name, key);
    }
  }
  return new Map([...keys].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * overlays/with-postgres: the production overlay and a one-replica PostgreSQL StatefulSet with its
 * Service (`postgres`) and a volume claim; its password is the Secret's POSTGRES_PASSWORD, and
 * DATABASE_URL (set by the operator in the same secrets.env) names it.
 */
function postgresOverlay(plan: DeployPlan): GeneratedFile[] {
  const labels = labelsOf(plan.namespace, 'postgres');
  const statefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { labels, name: 'postgres' },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      serviceName: 'postgres',
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              env: [
                { name: 'POSTGRES_DB', value: plan.namespace },
                { name: 'POSTGRES_USER', value: plan.namespace },
                {
                  name: POSTGRES_PASSWORD,
                  valueFrom: { secretKeyRef: { key: POSTGRES_PASSWORD, name: secretName(plan.namespace) } },
                },
                // A subfolder: the volume's root holds lost+found, which initdb refuses.
                { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
              ],
              image: POSTGRES_IMAGE,
              name: 'postgres',
              ports: [{ containerPort: 5432, name: 'postgres' }],
              readinessProbe: {
                exec: { command: ['pg_isready', '-U', plan.namespace, '-d', plan.namespace] },
                periodSeconds: 5,
              },
              resources: { requests: { cpu: '100m', memory: '256Mi' } },
              volumeMounts: [{ mountPath: '/var/lib/postgresql/data', name: 'data' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { labels, name: 'postgres' },
    spec: { ports: [{ name: 'postgres', port: 5432, targetPort: 'postgres' }], selector: labels },
  };
  return [
    {
      path: `${POSTGRES_OVERLAY_DIR}/kustomization.yaml`,
      content:
        HEADER +
        toYaml({
          apiVersion: 'kustomize.config.k8s.io/v1beta1',
          kind: 'Kustomization',
          // The production overlay's secrets.env also holds POSTGRES_PASSWORD for this one.
          resources: ['../production', 'postgres.yaml'],
        }),
    },
    {
      path: `${POSTGRES_OVERLAY_DIR}/postgres.yaml`,
      content: HEADER + yamlDocuments([statefulSet, service]),
    },
  ];
}

export function kubernetesFiles(plan: DeployPlan): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  const resources: string[] = [];
  for (const service of plan.services) {
    const file = `${service.service.name}.yaml`;
    resources.push(file);
    files.push({
      path: `${BASE_DIR}/${file}`,
      content:
        HEADER +
        yamlDocuments([
          configMapOf(plan, service),
          deploymentOf(plan, service),
          serviceObjectOf(plan, service),
          autoscalerOf(plan, service),
          disruptionBudgetOf(plan, service),
        ]),
    });
  }
  const keys = secretKeys(plan);
  // Only the optional keys, empty: a required key is absent so its pods wait for the real one.
  const optionalKeys = Object.fromEntries(
    [...keys].filter(([, key]) => !key.required).map(([name]) => [name, '']),
  );
  resources.push('secret.yaml');
  files.push({
    path: `${BASE_DIR}/secret.yaml`,
    content:
      HEADER +
      yamlDocuments([
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            labels: { 'app.kubernetes.io/part-of': plan.namespace },
            name: secretName(plan.namespace),
          },
          stringData: optionalKeys,
          type: 'Opaque',
        },
      ]),
  });
  resources.sort();
  files.push({
    path: `${BASE_DIR}/kustomization.yaml`,
    content:
      HEADER +
      toYaml({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        labels: [{ pairs: { 'app.kubernetes.io/part-of': plan.namespace } }],
        resources,
      }),
  });
  files.push({
    path: `${OVERLAY_DIR}/kustomization.yaml`,
    content:
      HEADER +
      toYaml({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: ['../../base'],
        // secrets.env is git-ignored (deploy/.gitignore); copy secrets.env.example and fill it.
        secretGenerator: [
          {
            behavior: 'merge',
            envs: ['secrets.env'],
            name: secretName(plan.namespace),
            options: { disableNameSuffixHash: true },
          },
        ],
      }),
  });
  const example = [
    '# Generated by `devctl export kubernetes`. Copy to secrets.env (git-ignored), set each value, then',
    '#   kubectl apply -k deploy/k8s/overlays/production',
    "# DATABASE_URL: an external PostgreSQL, postgres://user:password@host:5432/db; without it data-service's pods do not start (no SQLite on a cluster).",
    ...[...keys].flatMap(([name, key]) => [
      `# ${key.required ? 'required' : 'optional'}: ${key.services.join(', ')}`,
      `${name}=`,
    ]),
  ];
  const postgres = plan.services.some((service) => service.usesPostgres);
  if (postgres) {
    example.push(
      `# only with overlays/with-postgres (then DATABASE_URL=postgres://${plan.namespace}:<this password>@postgres:5432/${plan.namespace})`,
      `${POSTGRES_PASSWORD}=`,
    );
  }
  files.push({ path: `${OVERLAY_DIR}/secrets.env.example`, content: `${example.join('\n')}\n` });
  if (postgres) files.push(...postgresOverlay(plan));
  return files;
}
