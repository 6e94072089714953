// The order services start in: `depends_on` of ecosystem.config.js (PM2 ignores the key). A service
// starts once everything it depends on is healthy, so the stack starts in waves, each wave in
// parallel. devctl's start and the test stacks both follow it.

/** What the order needs of a service: its name and the names it depends on. */
export interface Dependent {
  name: string;
  dependsOn: readonly string[];
}

/** `depends_on` forms a cycle: none of `names` can start first. */
export class DependencyCycleError extends Error {
  override name = 'DependencyCycleError';
  constructor(readonly names: string[]) {
    super(`dependency cycle among ${names.join(', ')}`);
  }
}

/**
 * The services grouped in start waves, in their given order within a wave: each wave depends only
 * on earlier ones. A dependency outside `services` counts as satisfied. Throws DependencyCycleError.
 */
export function dependencyWaves<T extends Dependent>(services: readonly T[]): T[][] {
  const names = new Set(services.map((s) => s.name));
  const placed = new Set<string>();
  const waves: T[][] = [];
  let left = [...services];
  while (left.length > 0) {
    const wave = left.filter((s) => s.dependsOn.every((dep) => !names.has(dep) || placed.has(dep)));
    if (wave.length === 0) throw new DependencyCycleError(left.map((s) => s.name));
    for (const s of wave) placed.add(s.name);
    waves.push(wave);
    left = left.filter((s) => !placed.has(s.name));
  }
  return waves;
}

/** `selected` plus everything they depend on, directly or not, in the order of `services`. */
export function withDependencies<T extends Dependent>(services: readonly T[], selected: readonly T[]): T[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const wanted = new Set<string>();
  const visit = (service: Dependent) => {
    if (wanted.has(service.name)) return;
    wanted.add(service.name);
    for (const dep of service.dependsOn) {
      const entry = byName.get(dep);
      if (entry) visit(entry);
    }
  };
  for (const service of selected) visit(service);
  return services.filter((s) => wanted.has(s.name));
}
