import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runDiagnose(_options: unknown): Promise<void> { throw new CLIError('diagnose: not implemented yet'); }
