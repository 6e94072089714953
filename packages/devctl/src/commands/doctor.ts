import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runDoctor(_options: unknown): Promise<void> { throw new CLIError('doctor: not implemented yet'); }
