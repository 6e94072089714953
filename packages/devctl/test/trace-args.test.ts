// `devctl trace` arguments as a table: each command line -> the options its run function receives,
// and the usage errors (exit 2) the domain gives before reading any log.
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli';
import { CLIError, EXIT_USAGE } from '../src/errors';
import { trace } from '../src/trace/index';

const cases: { args: string[]; options: unknown }[] = [
  { args: ['trace', 'abc-123'], options: { requestId: 'abc-123', lastError: false, json: false } },
  { args: ['trace', 'abc-123', '--json'], options: { requestId: 'abc-123', lastError: false, json: true } },
  { args: ['trace', '--last-error'], options: { requestId: undefined, lastError: true, json: false } },
  {
    args: ['trace', '--last-error', '--json'],
    options: { requestId: undefined, lastError: true, json: true },
  },
];

describe('devctl trace arguments', () => {
  for (const { args, options } of cases) {
    it(`${args.join(' ')}`, async () => {
      const parsed = await parseCommandLine(args);
      expect(parsed.path).toEqual(['trace']);
      expect(parsed.options).toEqual(options);
    });
  }

  it('an unknown option is a usage error', async () => {
    await expect(parseCommandLine(['trace', '--last'])).rejects.toMatchObject({ exitCode: EXIT_USAGE });
  });

  const usage: { name: string; options: Parameters<typeof trace>[0]; message: RegExp }[] = [
    { name: 'no id and no --last-error', options: {}, message: /^which request\? give its id/ },
    {
      name: 'both an id and --last-error',
      options: { requestId: 'a', lastError: true },
      message: /not both/,
    },
    {
      name: 'an id the kit would never give',
      options: { requestId: 'a b/c' },
      message: /is not a request id/,
    },
  ];
  for (const row of usage) {
    it(`${row.name}: exit 2 before reading anything`, async () => {
      const error = await trace(row.options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CLIError);
      expect((error as CLIError).exitCode).toBe(EXIT_USAGE);
      expect((error as CLIError).message).toMatch(row.message);
    });
  }
});
