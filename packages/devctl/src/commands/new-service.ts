import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runNewService(_options: unknown): Promise<void> { throw new CLIError('new-service: not implemented yet'); }
