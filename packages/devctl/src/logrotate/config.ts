// The rotator's settings, from its environment (the `env` of its entry in ecosystem.config.js).
// Rotation is on by default: 10 MiB per file, 5 rotated files kept, sizes checked every second.

export interface RotateConfig {
  /** A log is rotated once it reaches this size. */
  maxBytes: number;
  /** Rotated files kept per log: `out.log.1` (newest) .. `out.log.<keep>`. */
  keep: number;
  /** Pause between two size checks. */
  intervalMs: number;
  /** The PM2 namespace whose logs are rotated; never another one. */
  namespace: string | undefined;
}

export class RotateConfigError extends Error {
  override name = 'RotateConfigError';
}

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** `10M`, `512K`, `1G`, `2048` (bytes), `1.5M` -> bytes. */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([BKMG]?)(?:i?B)?\s*$/i.exec(text);
  if (!match) return undefined;
  const bytes = Number(match[1]) * (UNITS[(match[2] as string).toUpperCase()] as number);
  return Number.isFinite(bytes) ? Math.floor(bytes) : undefined;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RotateConfigError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

export function loadRotateConfig(env: NodeJS.ProcessEnv = process.env): RotateConfig {
  const sizeText = env.LOGROTATE_MAX_SIZE ?? '10M';
  const maxBytes = parseSize(sizeText);
  if (maxBytes === undefined || maxBytes < 1024) {
    throw new RotateConfigError(
      `LOGROTATE_MAX_SIZE must be a size of at least 1K, such as 10M, 512K or 1G, not "${sizeText}"`,
    );
  }
  return {
    maxBytes,
    keep: integer(env, 'LOGROTATE_KEEP', 5, 1, 100),
    intervalMs: integer(env, 'LOGROTATE_INTERVAL_MS', 1000, 100, 3_600_000),
    // PM2 gives every app its pm2_env as environment variables, `namespace` among them.
    namespace: env.LOGROTATE_NAMESPACE || env.namespace || undefined,
  };
}
