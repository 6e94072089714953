// Types of stack-identity.cjs (CommonJS so that ecosystem.config.js can require it; see that file).

/** One checkout's line in the registry. */
export interface StackEntry {
  /** The checkout's real path. */
  root: string;
  namespace: string;
  block: number;
  /** Why this block: `the first free block: the documented ports`, `block 0 belongs to /x`... */
  reason?: string;
  claimedAt?: string;
}

export interface StackIdentity {
  root: string;
  namespace: string;
  /** The project's namespace (block 0's, `NAMESPACE` in ecosystem.config.js), whatever this checkout's block. */
  project: string;
  block: number;
  /** 100 x block: what every documented port is shifted by. */
  offset: number;
  /** The services' ports, in the order of the documented ports given. */
  ports: number[];
  web: number;
  reason: string;
  /** `registry` when the checkout already had an entry, `claimed` when it got one now. */
  source: 'registry' | 'claimed';
  claimedAt?: string;
  /** The registry file the identity comes from. */
  registry: string | undefined;
}

export interface StackIdentityOptions {
  /** The project's namespace, block 0's (default `default`); other blocks derive theirs from it. */
  namespace?: string;
  /** The documented ports of the checkout's services (default 3000-3006). */
  ports?: number[];
  /** The documented frontend port (default 5173). */
  web?: number;
  env?: NodeJS.ProcessEnv;
}

export const BLOCK_STEP: number;
export const DEFAULT_NAMESPACE: string;
export const DOCUMENTED_WEB_PORT: number;
export const FIRST_BLOCK_VARIABLE: string;
export const IDENTITY_FILE: string;
export const NAMESPACE_VARIABLE: string;
export const PORT_OFFSET_VARIABLE: string;
export const STATE_DIR_VARIABLE: string;
export function stackIdentity(root: string, options?: StackIdentityOptions): StackIdentity;
export function findStack(root: string, env?: NodeJS.ProcessEnv): StackEntry | undefined;
export function namespaceFor(root: string, block: number, base?: string): string;
export function pinStack(
  root: string,
  stack: { namespace: string; block: number },
  env?: NodeJS.ProcessEnv,
): StackEntry;
export function portOffsetOf(env?: NodeJS.ProcessEnv): number;
export function readRegistry(env?: NodeJS.ProcessEnv): StackEntry[];
export function registryPath(env?: NodeJS.ProcessEnv): string;
export function removeStacks(roots: string[], env?: NodeJS.ProcessEnv): StackEntry[];
export function stackEnv(identity: StackIdentity): Record<string, string>;
export function stateDir(env?: NodeJS.ProcessEnv): string;
