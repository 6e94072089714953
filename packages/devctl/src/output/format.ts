// Human formats for figures in tables and messages.

/** Bytes in a mebibyte. */
export const MiB = 1024 * 1024;

/** A size in messages: `3.4 MiB` under 10 MiB, `512 MiB` above (memory, log sizes, limits). */
export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MiB`;

export function formatBytes(bytes: number): string {
  if (!bytes) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** 850ms, 12s, 5m, 3h, 2d: one unit, the largest that fits. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}
