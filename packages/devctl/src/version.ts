// devctl's version, from its package.json (bundled into dist by esbuild), so `--version` and the
// MCP server's handshake never drift from the package.
import packageJson from '../package.json';

export const DEVCTL_VERSION: string = packageJson.version;
