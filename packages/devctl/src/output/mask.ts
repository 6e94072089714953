// Masking of secret values before anything is printed. The services mask their own --print-config
// output; devctl masks again so a service that forgets cannot leak through devctl. The rules (which
// names are secrets, the mask, the short hash) are the stack contract's, shared with the kit.
export { isSecretName, MASK, maskValue, shortHashOf } from '@repo/stack-contract';
