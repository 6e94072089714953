// The services `devctl new service <name>` added, one entry per line, so the gateway knows every
// backend without a hand-kept list: each is probed by GET /api/health and has the config variable
// <PM2 NAME>_URL (e.g. BILLING_SERVICE_URL), defaulting to http://127.0.0.1:<port> (keep `port`
// equal to the service's port in ecosystem.config.js). With `--route /api/<x>` the entry has a
// `prefix`, forwarded with everything under it to the service (see forward.ts), and `auth`:
// `'bearer'` (the default) makes the gateway check the JWT first and pass the user on as
// x-user-id, `'public'` lets every request through. For example:
//   { prefix: '/api/billing', service: 'billing-service', port: 3007, auth: 'bearer' },
//   { service: 'ledger-service', port: 3008 },
// `devctl remove service <name>` deletes its entry; editing it by hand is fine too.
import type { GeneratedRoute } from './forward';

export const generatedRoutes: readonly GeneratedRoute[] = [];
