import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runRemoveService(_options: unknown): Promise<void> { throw new CLIError('remove-service: not implemented yet'); }
