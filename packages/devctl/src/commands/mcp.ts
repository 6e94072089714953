// `devctl mcp [--read-only]`: a Model Context Protocol server over stdio for coding agents (see
// AGENTS.md for how to register it). It returns when the client closes the connection.
import { disableColors } from '../output/colors';

export interface McpOptions {
  /** Leave out the tools that change anything (start, stop, restart). */
  readOnly: boolean;
}

export async function runMcp(options: McpOptions): Promise<void> {
  disableColors();
  const { serveStdio } = await import('../mcp/stdio');
  await serveStdio(options);
}
