/** Leaves only the non-node_modules mappings, sources and names in the source map at `mapFile`. */
export function dropDependencyMappings(mapFile: string): void;
