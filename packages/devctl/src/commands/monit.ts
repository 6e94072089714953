import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runMonit(_options: unknown): Promise<void> { throw new CLIError('monit: not implemented yet'); }
