// The log files a request reads: `devctl logs` and the MCP logs tool take them from one function
// (src/logs/select.ts), so a name the CLI reads -- a tool app such as devctl-logrotate -- is one
// the MCP tool reads too (it once answered "unknown service").
import { describe, expect, it } from 'vitest';
import { loadEcosystem } from '../src/ecosystem/index';
import { compileGrep, selectLogs } from '../src/logs/index';
import { logsTool } from '../src/mcp/tools/logs';
import { templateRoot } from './scaffold-helpers';

const ecosystem = loadEcosystem(templateRoot);
const tool = ecosystem.tools[0]?.name as string;

describe('selectLogs', () => {
  it("reads a tool app's logs by name, and every service (not the tools) without a name", () => {
    expect(tool, 'the ecosystem declares a tool app').toBe('devctl-logrotate');
    expect(selectLogs(ecosystem, [tool], ['out', 'err']).services.map((s) => s.name)).toEqual([tool]);
    expect(selectLogs(ecosystem, [], ['err']).services.map((s) => s.name)).toEqual(
      ecosystem.services.map((s) => s.name),
    );
  });

  it('reads a file shared by both streams once', () => {
    const [service] = ecosystem.services;
    const merged = { ...ecosystem, services: [{ ...service, errorFile: service?.outFile } as never] };
    expect(selectLogs(merged, [], ['out', 'err']).sources).toHaveLength(1);
  });

  it('refuses an unknown name and a bad pattern as usage errors', () => {
    expect(() => selectLogs(ecosystem, ['nope-service'], ['out'])).toThrow(/unknown service "nope-service"/);
    expect(() => compileGrep('(')).toThrow(/--grep "\(" is not a valid regular expression/);
  });
});

describe('the MCP logs tool', () => {
  it('answers for a tool app as devctl logs does', async () => {
    const answer = await logsTool({ service: tool, lines: 5 });
    expect(answer.isError).toBeFalsy();
    const body = JSON.parse((answer.content[0] as { text: string }).text) as { services: string[] };
    expect(body.services).toEqual([tool]);
  });
});
