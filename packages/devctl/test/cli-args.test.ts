// Argument parsing as a table: each command line -> the command and the options object its run
// function receives, or the usage error (exit 2) it must give. Then the same rules through the
// real bin for the exit codes and messages a user sees.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import packageJson from '../package.json';
import { parseCommandLine } from '../src/cli';
import { CLIError } from '../src/errors';
import { devctlBin } from './fixtures/harness';

const startDefaults = { names: [], wait: false, build: true, timeoutSeconds: undefined, json: false };

const cases: { args: string[]; path: string[]; options: unknown }[] = [
  { args: ['start'], path: ['start'], options: startDefaults },
  {
    args: ['start', '--wait', '--no-build', '--timeout', '5', 'api-gateway', 'form-service'],
    path: ['start'],
    options: {
      names: ['api-gateway', 'form-service'],
      wait: true,
      build: false,
      timeoutSeconds: 5,
      json: false,
    },
  },
  {
    args: ['start', '--timeout=2.5', '--json'],
    path: ['start'],
    options: { ...startDefaults, timeoutSeconds: 2.5, json: true },
  },
  { args: ['start', 'all'], path: ['start'], options: { ...startDefaults, names: ['all'] } },
  {
    args: ['restart', 'form-service', '--wait'],
    path: ['restart'],
    options: { names: ['form-service'], wait: true, build: true, timeoutSeconds: undefined, json: false },
  },
  { args: ['stop'], path: ['stop'], options: { names: [], json: false } },
  { args: ['stop', 'all', '--json'], path: ['stop'], options: { names: ['all'], json: true } },
  { args: ['delete', 'a', 'b'], path: ['delete'], options: { names: ['a', 'b'], json: false } },
  { args: ['status', '--json'], path: ['status'], options: { names: [], json: true } },
  { args: ['status', 'auth-service'], path: ['status'], options: { names: ['auth-service'], json: false } },
  { args: ['env'], path: ['env'], options: { names: [], json: false } },
  {
    args: ['env', 'data-service', '--json'],
    path: ['env'],
    options: { names: ['data-service'], json: true },
  },
  {
    args: ['logs', 'auth-service', '-n', '50', '--err', '--since', '10m', '--grep', 'Error'],
    path: ['logs'],
    options: {
      names: ['auth-service'],
      lines: '50',
      follow: false,
      err: true,
      out: false,
      since: '10m',
      grep: 'Error',
      raw: false,
      json: false,
    },
  },
  {
    args: ['logs', '-f', '--lines=7'],
    path: ['logs'],
    options: {
      names: [],
      lines: '7',
      follow: true,
      err: false,
      out: false,
      since: undefined,
      grep: undefined,
      raw: false,
      json: false,
    },
  },
  { args: ['monit', '--interval', '3'], path: ['monit'], options: { names: [], intervalSeconds: 3 } },
  { args: ['doctor', '--json'], path: ['doctor'], options: { json: true } },
  { args: ['dev', '--services'], path: ['dev'], options: { services: true } },
  {
    args: ['new', 'service', 'billing', '--port', '3010', '--depends-on', 'data-service,auth-service'],
    path: ['new', 'service'],
    options: {
      name: 'billing',
      port: 3010,
      dependsOn: ['data-service', 'auth-service'],
      route: undefined,
      auth: 'bearer',
      json: false,
    },
  },
  {
    args: ['new', 'service', 'billing', '--route', '/api/billing'],
    path: ['new', 'service'],
    options: { name: 'billing', dependsOn: [], route: '/api/billing', auth: 'bearer', json: false },
  },
  {
    args: ['new', 'service', 'billing', '--route', '/api/billing', '--auth', 'public'],
    path: ['new', 'service'],
    options: { name: 'billing', dependsOn: [], route: '/api/billing', auth: 'public', json: false },
  },
  {
    args: ['remove', 'service', 'billing', '-y'],
    path: ['remove', 'service'],
    options: { name: 'billing', yes: true },
  },
  { args: ['mcp', '--read-only'], path: ['mcp'], options: { readOnly: true } },
];

const usageErrors: { args: string[]; message: RegExp }[] = [
  { args: ['strt'], message: /unknown command "strt"; did you mean "start"\?/ },
  {
    args: ['start', '--wiat'],
    message: /unknown option "--wiat" for "devctl start"; did you mean "--wait"\?/,
  },
  { args: ['status', '--follow'], message: /unknown option "--follow" for "devctl status"/ },
  { args: ['start', '--timeout', '0'], message: /--timeout must be a positive number of seconds, not "0"/ },
  {
    args: ['restart', '--timeout', 'soon'],
    message: /--timeout must be a positive number of seconds, not "soon"/,
  },
  { args: ['monit', '--interval', '-1'], message: /--interval must be a positive number/ },
  { args: ['new', 'service', 'x', '--port', '70000'], message: /--port must be a port number/ },
  { args: ['new'], message: /"devctl new" needs a subcommand/ },
  {
    args: ['new', 'service', 'x', '--route', '/api/x', '--auth', 'jwt'],
    message: /--auth must be bearer or public, not "jwt"/,
  },
  { args: ['new', 'service', 'x', '--auth', 'public'], message: /--auth applies to a gateway route/ },
  { args: ['new', 'servce'], message: /unknown command "new servce"; did you mean "new service"\?/ },
];

describe('argument parsing', () => {
  it.each(cases)('devctl $args', async ({ args, path, options }) => {
    const parsed = await parseCommandLine(args);
    expect(parsed.path).toEqual(path);
    expect(parsed.options).toEqual(options);
  });

  it.each(usageErrors)('devctl $args is a usage error', async ({ args, message }) => {
    const error = await parseCommandLine(args).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CLIError);
    expect((error as CLIError).exitCode).toBe(2);
    expect((error as CLIError).message).toMatch(message);
  });
});

describe('the bin', () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, [devctlBin, ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, NO_COLOR: '1' },
      timeout: 30_000,
    });

  it.each(['--version', '-v'])('prints the version of its package.json for %s', (flag) => {
    const result = run([flag]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${packageJson.version}\n`);
  });

  it('exits 2 with the message on stderr for a usage error, and nothing on stdout', () => {
    const result = run(['strt']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('devctl: unknown command "strt"; did you mean "start"?');
  });

  it('gives a usage error as JSON on stdout with --json', () => {
    const result = run(['status', '--json', '--bogus']);
    expect(result.status).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({ error: expect.objectContaining({ exitCode: 2 }) });
  });

  it('prints help for a command with --help and exits 0, without colour codes when not a terminal', () => {
    const result = run(['start', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('USAGE devctl start [OPTIONS] [NAMES]');
    expect(result.stdout).toContain('--no-build');
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('status (which has a fast path of its own) gives the same help and usage errors as every command', () => {
    const help = run(['status', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('USAGE devctl status [OPTIONS] [NAMES]');
    const bogus = run(['status', '--follow']);
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toContain('unknown option "--follow" for "devctl status"');
  });

  it('prints the usage and exits 2 without a command', () => {
    const result = run([]);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain('USAGE devctl');
  });
});
