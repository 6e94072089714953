// The one PM2 file for this stack. `pnpm pm2:start` (devctl) and plain `pm2 start ecosystem.config.js`
// read it alike. Services run as built JavaScript (esbuild bundles in services/<x>/dist) with source
// maps, so PM2 holds the real server process -- no npm/sh wrapper -- and stack traces name the
// TypeScript file and line. `devctl` reads `depends_on` (ignored by PM2) to start in dependency order.
//
// Every checkout (a clone, a git worktree) is its own stack: `stackIdentity` (at the end of the
// file) gives it a PM2 namespace and a block of ports, claimed once in a registry every checkout
// reads (docs/side-by-side.md). The first checkout runs on the ports written below with the
// namespace `devstack`; another on the same ports shifted by 100 x its block (3100-3106, web 5273)
// with a namespace of its own.
const path = require('node:path');
const { stackEnv, stackIdentity } = require('./packages/stack-contract/src/stack-identity.cjs');

/** The project's PM2 namespace: the first checkout's; another's is `<NAMESPACE>-<folder>-<hash>`. */
const NAMESPACE = 'devstack';

/** The documented ports of the apps below (the README's table), in file order. */
const documentedPorts = [];

/**
 * One backend: its PM2 name, folder under services/, documented port, and the services it needs first.
 * `instances` (opt-in, for a service that keeps no state in its process: api-gateway, form-service,
 * auth-service) runs it as that many PM2 cluster instances behind its one port, one per core;
 * each instance logs to its own file (out-<pm_id>.log), which `devctl logs` merges.
 */
function service(name, folder, port, dependsOn = [], { instances = 1 } = {}) {
  const cwd = path.join(__dirname, 'services', folder);
  documentedPorts.push(port);
  const cluster = instances > 1 ? { exec_mode: 'cluster', instances, merge_logs: false } : {};
  return {
    name,
    cwd,
    script: 'dist/index.js',
    node_args: '--enable-source-maps',
    exec_mode: 'fork',
    instances: 1,
    out_file: path.join(cwd, 'logs', 'out.log'),
    error_file: path.join(cwd, 'logs', 'error.log'),
    merge_logs: true,
    time: true,
    // The service calls process.send('ready') once listening.
    wait_ready: true,
    listen_timeout: 10000,
    kill_timeout: 6000,
    // Restart policy: back off exponentially on crashes, give up after 10 fast crashes, and never
    // restart on a configuration error (exit 78, EX_CONFIG): it would fail the same way again.
    min_uptime: 3000,
    max_restarts: 10,
    exp_backoff_restart_delay: 100,
    stop_exit_codes: [78],
    max_memory_restart: '512M',
    autorestart: true,
    watch: false,
    pmx: false,
    automation: false,
    env: {
      NODE_ENV: 'development',
      PORT: String(port),
    },
    depends_on: dependsOn,
    ...cluster,
  };
}

/**
 * devctl's log rotator, a tool app (`devctl_role: 'tool'`: no port, no /health; devctl starts it with
 * the stack, lists it in status, never builds or probes it). It rotates the out and error logs of
 * every app of this namespace at LOGROTATE_MAX_SIZE into <log>.1 .. <log>.<LOGROTATE_KEEP>, which
 * `devctl logs` reads across. See docs/reliability.md.
 */
function logRotator() {
  const cwd = path.join(__dirname, 'packages', 'devctl');
  return {
    name: 'devctl-logrotate',
    devctl_role: 'tool',
    cwd,
    script: 'bin/logrotate.js',
    exec_mode: 'fork',
    instances: 1,
    out_file: path.join(cwd, 'logs', 'logrotate.out.log'),
    error_file: path.join(cwd, 'logs', 'logrotate.error.log'),
    merge_logs: true,
    time: true,
    min_uptime: 3000,
    max_restarts: 10,
    exp_backoff_restart_delay: 100,
    stop_exit_codes: [78],
    autorestart: true,
    watch: false,
    pmx: false,
    automation: false,
    env: {
      LOGROTATE_MAX_SIZE: '10M',
      LOGROTATE_KEEP: '5',
    },
  };
}

module.exports = {
  apps: [
    service('data-service', 'data', 3004),
    service('email-service', 'email', 3002),
    service('auth-service', 'auth', 3003, ['data-service']),
    service('form-service', 'form', 3001, ['data-service']),
    service('worker-service', 'worker', 3005, ['data-service', 'email-service']),
    service('scheduler-service', 'scheduler', 3006, ['data-service']),
    service('api-gateway', 'api-gateway', 3000, ['auth-service', 'form-service', 'data-service']),
    logRotator(),
  ],
};

// This checkout's stack: every app gets its namespace, its port shifted by the block, and the
// block's offset, by which the kit shifts its default for each <NAME>_SERVICE_URL (a value set in a
// .env still wins). devctl reads `stack` for start's first line and `devctl stacks`; PM2 ignores it.
const STACK = stackIdentity(__dirname, { namespace: NAMESPACE, ports: documentedPorts, web: 5173 });
module.exports.stack = STACK;
for (const app of module.exports.apps) {
  app.namespace = STACK.namespace;
  if (app.env.PORT) app.env.PORT = String(Number(app.env.PORT) + STACK.offset);
  Object.assign(app.env, stackEnv(STACK));
}
