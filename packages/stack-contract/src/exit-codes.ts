// The exit codes the stack's processes and devctl agree on. A service that refuses its configuration
// exits EX_CONFIG; PM2 is told not to restart on it (`stop_exit_codes` in ecosystem.config.js), and
// devctl's preflight, status and diagnose read it as "the configuration, not the code".

/** sysexits.h EX_CONFIG: the configuration is missing or invalid; starting again fails the same way. */
export const EX_CONFIG = 78;

/** devctl's own codes (and a service's for a failure other than its configuration). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** A usage error: unknown command, option or service. */
export const EXIT_USAGE = 2;
