// How a service finds another: through a config variable named after the PM2 name of the one it
// calls (`data-service` -> `DATA_SERVICE_URL`), whose default is that service's port on this
// machine. The scaffold writes these variables, the gateway names its forwarded routes' upstreams by
// them, the test stacks set them to free ports, and diagnose reads them back to a service.

/** The host every service listens on by default and is called at on this machine. */
export const LOCAL_HOST = '127.0.0.1';

/** The base URL of a service listening on `port` on this machine: `http://127.0.0.1:<port>`. */
export function localServiceUrl(port: number | string): string {
  return `http://${LOCAL_HOST}:${port}`;
}

/** The config variable holding a service's base URL: `data-service` -> `DATA_SERVICE_URL`. */
export function serviceUrlVariable(service: string): string {
  return `${service.toUpperCase().replace(/-/g, '_')}_URL`;
}

/**
 * The service of `services` a URL variable names, or undefined: `AUTH_SERVICE_URL` ->
 * `auth-service`; `BILLING_URL` -> `billing` or `billing-service`; `INVENTORY_SERVICE_URL` ->
 * `inventory` too (a hand-written ecosystem may leave out the `-service` of a PM2 name).
 */
export function serviceOfUrlVariable(variable: string, services: readonly string[]): string | undefined {
  const match = /^([A-Z0-9_]+?)_URL$/.exec(variable);
  if (!match) return undefined;
  const name = (match[1] as string).toLowerCase().replace(/_/g, '-');
  const bare = name.endsWith('-service') ? name.slice(0, -'-service'.length) : undefined;
  return services.find((service) => service === name || service === `${name}-service` || service === bare);
}

/** True for a variable named like the URL of another service (`<NAME>_SERVICE_URL`). */
export function isServiceUrlVariable(variable: string): boolean {
  return /^[A-Z0-9_]+_SERVICE_URL$/.test(variable);
}
