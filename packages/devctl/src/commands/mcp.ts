import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runMcp(_options: unknown): Promise<void> { throw new CLIError('mcp: not implemented yet'); }
