// The source-map rewrite of an application bundle, shared by service-build and the test harnesses
// that bundle fixture services the same way (packages/devctl/test/fixtures/harness.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { decode, encode } from '@jridgewell/sourcemap-codec';

/**
 * Rewrites a source map so that code from node_modules maps to nothing: each run of such code on a
 * generated line becomes one segment without a source (Node then prints the bundle's own position
 * for a frame there, rather than the nearest mapped TypeScript line before it), and the npm sources
 * and names leave the map.
 */
export function dropDependencyMappings(mapFile) {
  const map = JSON.parse(readFileSync(mapFile, 'utf8'));
  const isDependency = map.sources.map((source) => source.includes('/node_modules/'));
  const sourceIndex = new Map();
  const nameIndex = new Map();
  const keep = (index, table) => {
    if (!table.has(index)) table.set(index, table.size);
    return table.get(index);
  };
  const lines = decode(map.mappings).map((segments) => {
    const kept = [];
    let inDependency = false;
    for (const segment of segments) {
      if (segment.length === 1 || isDependency[segment[1]]) {
        if (!inDependency) kept.push([segment[0]]);
        inDependency = true;
        continue;
      }
      inDependency = false;
      const [column, source, line, sourceColumn, name] = segment;
      kept.push(
        segment.length === 5
          ? [column, keep(source, sourceIndex), line, sourceColumn, keep(name, nameIndex)]
          : [column, keep(source, sourceIndex), line, sourceColumn],
      );
    }
    return kept;
  });
  map.mappings = encode(lines);
  map.sources = [...sourceIndex.keys()].map((index) => map.sources[index]);
  map.names = [...nameIndex.keys()].map((index) => map.names[index]);
  writeFileSync(mapFile, JSON.stringify(map));
}
