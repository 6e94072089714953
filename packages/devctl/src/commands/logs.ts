import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runLogs(_options: unknown): Promise<void> { throw new CLIError('logs: not implemented yet'); }
