import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runDevServices(_options: unknown): Promise<void> { throw new CLIError('dev-services: not implemented yet'); }
