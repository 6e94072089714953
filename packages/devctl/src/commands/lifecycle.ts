import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runStop(_options: unknown): Promise<void> { throw new CLIError('lifecycle: not implemented yet'); }
export async function runRestart(_options: unknown): Promise<void> { throw new CLIError('lifecycle: not implemented yet'); }
export async function runDelete(_options: unknown): Promise<void> { throw new CLIError('lifecycle: not implemented yet'); }
