import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceEntry } from '../src/real-service';
import { tempDir } from '../src/temp';

describe('serviceEntry', () => {
  const dir = tempDir('service-entry-');
  afterAll(() => dir.cleanup());
  const service = join(dir.path, 'services', 'demo');
  const kit = join(dir.path, 'packages', 'kit', 'src', 'index.ts');
  const own = join(service, 'src', 'index.ts');
  const bundle = join(service, 'dist', 'index.js');
  mkdirSync(join(service, 'src'), { recursive: true });
  mkdirSync(join(service, 'dist'), { recursive: true });
  mkdirSync(join(kit, '..'), { recursive: true });
  const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);
  const build = () => {
    writeFileSync(bundle, '');
    writeFileSync(
      `${bundle}.map`,
      JSON.stringify({ version: 3, sources: ['../../../packages/kit/src/index.ts', '../src/index.ts'] }),
    );
  };
  writeFileSync(own, '');
  writeFileSync(kit, '');

  it('runs the TypeScript when there is no build', () => {
    expect(serviceEntry(service)).toContain('tsx');
  });

  it('runs the build when it is as new as every source in its map', () => {
    build();
    at(own, 1_000);
    at(kit, 1_000);
    at(bundle, 2_000);
    expect(serviceEntry(service)).toEqual(['--enable-source-maps', bundle]);
  });

  it("runs the TypeScript when the service's or a workspace package's source changed since", () => {
    build();
    at(bundle, 2_000);
    at(own, 3_000);
    expect(serviceEntry(service)).toContain('tsx');
    at(own, 1_000);
    at(kit, 3_000);
    expect(serviceEntry(service)).toContain('tsx');
  });
});
