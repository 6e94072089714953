// The routes `devctl new service <name> --route /api/<x>` added: each forwards /api/<x> and
// everything under it to one service (see forward.ts). devctl edits this list as text, one entry per
// line, e.g. `{ prefix: '/api/billing', service: 'billing-service', port: 3007, auth: 'public' },`,
// and `devctl remove service <name>` deletes its entry; editing it by hand is fine too. Each
// service's URL is the config variable <PM2 NAME>_URL (e.g. BILLING_SERVICE_URL), defaulting to
// http://127.0.0.1:<port>: keep `port` equal to the service's port in ecosystem.config.js. `auth:
// 'bearer'` makes the gateway check the JWT first and pass the user on as x-user-id.
import type { GeneratedRoute } from './forward';

export const generatedRoutes: readonly GeneratedRoute[] = [];
