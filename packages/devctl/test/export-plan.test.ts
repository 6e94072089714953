// The pure parts of `devctl export`, as tables: the rules that decide a deployment from the ecosystem
// and the schemas (and what they refuse), PM2's memory strings, the write policy that never loses a
// hand edit, and the command line. The real ecosystem end to end is export.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@repo/test-utils';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseCommandLine } from '../src/cli';
import { CLIError } from '../src/errors';
import { generateFromInput } from '../src/export/index';
import { parseMemory, planDeployment } from '../src/export/plan';
import type { ExportService, SchemaVariable } from '../src/export/types';
import { writeGenerated } from '../src/export/write';

const variable = (name: string, value: string | null = null, source = 'default'): SchemaVariable => ({
  name,
  value,
  source,
});

function service(overrides: Partial<ExportService> & { name: string }): ExportService {
  return {
    folder: `services/${overrides.name}`,
    packageName: `@repo/${overrides.name}`,
    port: 4000,
    dependsOn: [],
    script: 'dist/index.js',
    nodeArgs: ['--enable-source-maps'],
    instances: 1,
    maxMemoryBytes: 256 * 1024 * 1024,
    listenTimeoutMs: 10_000,
    killTimeoutMs: 6000,
    ecosystemEnv: {},
    runtimePackages: [],
    variables: [variable('PORT', '4000', 'process'), variable('HOST', '127.0.0.1')],
    requiredInProduction: [],
    ...overrides,
  };
}

describe('parseMemory: max_memory_restart as PM2 reads it', () => {
  it.each([
    ['512M', 512 * 1024 ** 2],
    ['1G', 1024 ** 3],
    ['300K', 300 * 1024],
    ['1.5G', 1.5 * 1024 ** 3],
    ['2048', 2048],
    [104857600, 104857600],
    ['lots', undefined],
    [undefined, undefined],
  ])('%s -> %s bytes', (input, bytes) => {
    expect(parseMemory(input)).toBe(bytes);
  });
});

describe('planDeployment: the rules by class of variable', () => {
  const store = service({
    name: 'store-service',
    port: 4100,
    variables: [variable('PORT'), variable('HOST'), variable('DATABASE_URL')],
  });

  it('points <NAME>_URL at the backend by its name and port, gives *_DIR a volume, passes optional settings through', () => {
    const shop = service({
      name: 'shop',
      dependsOn: ['store-service'],
      variables: [
        variable('PORT'),
        variable('HOST'),
        variable('NODE_ENV', 'development'),
        variable('STORE_SERVICE_URL', 'http://127.0.0.1:4100'),
        variable('INVOICE_DIR', 'invoices'),
        variable('FEATURE_FLAG'),
        variable('PAGE_SIZE', '20'),
        variable('API_TOKEN'),
      ],
      requiredInProduction: ['API_TOKEN'],
    });
    const { plan, problems } = planDeployment({ namespace: 'acme', services: [shop, store] });
    expect(problems).toEqual([]);
    const shopPlan = plan.services.find((s) => s.service.name === 'shop');
    expect(shopPlan?.settings).toEqual({
      HOST: '0.0.0.0',
      INVOICE_DIR: '/var/lib/app/shop-invoice',
      NODE_ENV: 'production',
      PORT: '4000',
      STORE_SERVICE_URL: 'http://store-service:4100',
    });
    // Defaults stay the service's own: PAGE_SIZE is not repeated.
    expect(shopPlan?.optional).toEqual(['FEATURE_FLAG']);
    expect(shopPlan?.secrets).toEqual([{ name: 'API_TOKEN', required: true }]);
    expect(shopPlan?.volumes).toEqual([
      { variable: 'INVOICE_DIR', volume: 'shop-invoice', mountPath: '/var/lib/app/shop-invoice' },
    ]);
    const storePlan = plan.services.find((s) => s.service.name === 'store-service');
    expect(storePlan?.usesPostgres).toBe(true);
    expect(storePlan?.secrets).toEqual([{ name: 'DATABASE_URL', required: true }]);
  });

  it.each([
    [
      'a *_SERVICE_URL naming no backend',
      service({
        name: 'shop',
        variables: [variable('PORT'), variable('BILLING_SERVICE_URL', 'http://127.0.0.1:1')],
      }),
      /BILLING_SERVICE_URL names no backend/,
    ],
    [
      'a secret set in ecosystem.config.js',
      service({
        name: 'shop',
        ecosystemEnv: { API_TOKEN: 'abc' },
        variables: [variable('PORT'), variable('API_TOKEN', '****', 'process')],
      }),
      /API_TOKEN is a secret set in ecosystem.config.js/,
    ],
    [
      'a plain setting required in production with no value',
      service({
        name: 'shop',
        variables: [variable('PORT'), variable('REGION')],
        requiredInProduction: ['REGION'],
      }),
      /REGION is required in production and has no default/,
    ],
    [
      'a script outside dist/',
      service({ name: 'shop', script: 'src/index.ts' }),
      /script src\/index.ts is not a built file under dist\//,
    ],
    [
      'a depends_on naming no backend',
      service({ name: 'shop', dependsOn: ['ghost'] }),
      /depends_on names ghost/,
    ],
  ])('refuses %s, naming the service', (_case, shop, message) => {
    const { problems } = planDeployment({ namespace: 'acme', services: [shop, store] });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.service).toBe('shop');
    expect(problems[0]?.message).toMatch(message);
    expect(generateFromInput('compose', { namespace: 'acme', services: [shop, store] }).files).toEqual([]);
  });

  it('gives byte-identical files whatever the order of the ecosystem', () => {
    const a = service({
      name: 'a',
      dependsOn: ['store-service'],
      variables: [variable('PORT'), variable('STORE_SERVICE_URL')],
    });
    const forward = generateFromInput('kubernetes', { namespace: 'acme', services: [a, store] });
    const backward = generateFromInput('kubernetes', { namespace: 'acme', services: [store, a] });
    expect(forward.problems).toEqual([]);
    expect(backward.files).toEqual(forward.files);
    // Run alone, the Kubernetes export keeps its own secrets file out of git too.
    const ignore = forward.files.find((f) => f.path === 'deploy/.gitignore')?.content ?? '';
    expect(ignore.split('\n')).toEqual(expect.arrayContaining(['.env', 'k8s/overlays/*/secrets.env']));
    const compose = generateFromInput('compose', { namespace: 'acme', services: [a, store] }).files;
    const document = parseYaml(compose.find((f) => f.path === 'deploy/compose.yaml')?.content ?? '');
    expect(document.services.a.depends_on).toEqual({ 'store-service': { condition: 'service_healthy' } });
    expect(document.services['store-service'].depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
    });
    expect(document.services.a.deploy.resources.limits.memory).toBe(String(256 * 1024 * 1024));
  });
});

describe('writeGenerated: never loses a hand edit', () => {
  it('creates, leaves identical files alone, updates untouched ones, refuses edited ones unless forced', () => {
    const dir = tempDir('devctl-export-write-');
    try {
      const files = (a: string, b: string) => [
        { path: 'deploy/a.yaml', content: a },
        { path: 'deploy/b.yaml', content: b },
      ];
      const outcomes = (result: ReturnType<typeof writeGenerated>) => result.files.map((f) => f.outcome);
      expect(outcomes(writeGenerated(dir.path, files('a1', 'b1'), false))).toEqual(['created', 'created']);
      expect(outcomes(writeGenerated(dir.path, files('a1', 'b1'), false))).toEqual([
        'unchanged',
        'unchanged',
      ]);
      // A new generation over files nobody edited: updated.
      expect(outcomes(writeGenerated(dir.path, files('a2', 'b1'), false))).toEqual(['updated', 'unchanged']);
      // A hand edit: nothing is written, not even the other file, and the edit is named.
      writeFileSync(join(dir.path, 'deploy/b.yaml'), 'b edited by hand');
      const refused = writeGenerated(dir.path, files('a3', 'b3'), false);
      expect(refused.conflicts).toEqual(['deploy/b.yaml']);
      expect(readFileSync(join(dir.path, 'deploy/a.yaml'), 'utf8')).toBe('a2');
      expect(readFileSync(join(dir.path, 'deploy/b.yaml'), 'utf8')).toBe('b edited by hand');
      expect(outcomes(writeGenerated(dir.path, files('a3', 'b3'), true))).toEqual(['updated', 'overwritten']);
      expect(readFileSync(join(dir.path, 'deploy/b.yaml'), 'utf8')).toBe('b3');
    } finally {
      dir.cleanup();
    }
  });
});

describe('devctl export: the command line', () => {
  it.each([
    [['export', 'compose'], { target: 'compose', force: false, build: true, json: false }],
    [['export', 'kubernetes', '--force'], { target: 'kubernetes', force: true, build: true, json: false }],
    [
      ['export', 'compose', '--json', '--no-build'],
      { target: 'compose', force: false, build: false, json: true },
    ],
  ])('%j -> %j', async (args, options) => {
    expect((await parseCommandLine(args)).options).toEqual(options);
  });

  it.each([[['export']], [['export', 'helm']], [['export', 'compose', '--forse']]])(
    '%j is a usage error (exit 2)',
    async (args) => {
      const error = await parseCommandLine(args).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CLIError);
      expect((error as CLIError).exitCode).toBe(2);
    },
  );
});
