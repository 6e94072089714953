// The input and output of `devctl export`: what the ecosystem and each service's configuration
// schema say about a service (read by read-config.ts), and the deployment decided from it
// (plan.ts), which compose.ts, kubernetes.ts and dockerfile.ts turn into file contents.

/** One variable of a service's configuration schema, as the kit's `--print-config` printed it. */
export interface SchemaVariable {
  name: string;
  /**
   * The value in effect in the clean room (no .env file read: only the schema's default or the
   * ecosystem's env); null when the schema leaves it unset (optional). Masked when secret.
   */
  value: string | null;
  /** `default` (the schema's), or `process` (set by ecosystem.config.js). */
  source: string;
}

/** Everything the export knows about one backend. */
export interface ExportService {
  /** PM2 name: the Compose service, the Kubernetes Deployment and Service, the host name. */
  name: string;
  /** Repository-relative folder, e.g. `services/data`. */
  folder: string;
  /** Workspace package name, e.g. `@repo/data` (turbo --filter in the image build). */
  packageName: string;
  port: number;
  dependsOn: string[];
  /** The ecosystem's script, relative to the folder (a built file under dist/). */
  script: string;
  nodeArgs: string[];
  instances: number;
  /** `max_memory_restart` in bytes, when set. */
  maxMemoryBytes: number | undefined;
  /** `listen_timeout` in ms: how long start-up may take before PM2 gives up. */
  listenTimeoutMs: number;
  /** `kill_timeout` in ms: the grace between SIGTERM and SIGKILL. */
  killTimeoutMs: number;
  /** The env of ecosystem.config.js for this app. */
  ecosystemEnv: Record<string, string>;
  /** Packages the built entry imports at run time (left out of the bundle: native addons), `name@version`. */
  runtimePackages: string[];
  /** The schema's variables, in the schema's order. */
  variables: SchemaVariable[];
  /** Variables the kit refuses as unset when the service runs with NODE_ENV=production. */
  requiredInProduction: string[];
}

export interface ExportInput {
  /** The PM2 namespace: the Compose project name, the Kubernetes label `part-of`. */
  namespace: string;
  services: ExportService[];
}

/** A secret a service reads: its value never appears in a generated file. */
export interface SecretSetting {
  name: string;
  /** The service refuses to start without it (in production). */
  required: boolean;
}

/** A folder a service writes to (a `*_DIR` variable): a volume in Compose and Kubernetes. */
export interface VolumeSetting {
  variable: string;
  /** The volume's name, e.g. `email-service-outbox`. */
  volume: string;
  mountPath: string;
}

/** How one backend runs once deployed. */
export interface ServicePlan {
  service: ExportService;
  /** Plain settings the deployment sets (sorted by name); every other variable keeps its schema default. */
  settings: Record<string, string>;
  /** Optional plain variables the schema leaves unset, passed through empty (e.g. SMTP_HOST). */
  optional: string[];
  secrets: SecretSetting[];
  volumes: VolumeSetting[];
  /** The service reads DATABASE_URL: the deployment gives it PostgreSQL. */
  usesPostgres: boolean;
  /** The command the container runs: `node <node_args> <script>`. */
  command: string[];
}

export interface DeployPlan {
  namespace: string;
  services: ServicePlan[];
}

/** Something the export refuses to write because it would not work once deployed. */
export interface ExportProblem {
  service: string;
  message: string;
}

/** One generated file: repository-relative path and content. */
export interface GeneratedFile {
  path: string;
  content: string;
}
