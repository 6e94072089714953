// devctl's log rotator: a small PM2 app of the project's namespace (ecosystem.config.js,
// `devctl-logrotate`), so rotation is on whenever the stack runs, whether started by devctl or by
// `pm2 start ecosystem.config.js`. Every LOGROTATE_INTERVAL_MS it checks the size of the out and
// error logs of every PM2 process of its namespace (never another one) and rotates those that
// reached LOGROTATE_MAX_SIZE into `<log>.1` .. `<log>.<LOGROTATE_KEEP>`, the names `devctl logs`
// reads across. The list of logs comes from the PM2 daemon, so it holds the paths PM2 really writes.

import { EX_CONFIG } from '@repo/stack-contract';
import { mib } from '../output/format';
import { loadRotateConfig, RotateConfigError } from './config';
import { listLogFiles } from './files';
import { rotateIfLarge } from './rotate';

/** The process list is asked of the daemon at most this often (it costs a pidusage per process). */
const LIST_REFRESH_MS = 30_000;

const log = (message: string) => process.stdout.write(`${message}\n`);

async function main(): Promise<void> {
  let config: ReturnType<typeof loadRotateConfig>;
  try {
    config = loadRotateConfig();
  } catch (error) {
    if (error instanceof RotateConfigError) {
      process.stderr.write(
        `devctl-logrotate: ${error.message} (set it in the env of devctl-logrotate in ecosystem.config.js)\n`,
      );
      // PM2's `stop_exit_codes` keeps a misconfigured rotator from restarting in a loop.
      process.exit(EX_CONFIG);
    }
    throw error;
  }
  log(
    `devctl-logrotate: rotating the logs of PM2 namespace ${config.namespace ?? '(every namespace: none given)'} at ${mib(config.maxBytes)}, keeping ${config.keep}, checking every ${config.intervalMs} ms`,
  );

  let files: string[] = [];
  let listedAt = 0;
  let daemonMissing = false;
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stopping = true;
      process.exit(0);
    });
  }
  // A daemon killed with SIGKILL leaves its apps running as orphans. A rotator must not outlive its
  // daemon: the next daemon starts its own, and two rotators would rotate the same files at once.
  if (process.send) {
    const daemonPid = process.ppid;
    const exitWithDaemon = (why: string) => {
      log(`devctl-logrotate: ${why}; exiting (the next PM2 daemon starts its own rotator)`);
      process.exit(0);
    };
    process.on('disconnect', () => exitWithDaemon(`lost the IPC channel to PM2 daemon ${daemonPid}`));
    setInterval(() => {
      if (process.ppid !== daemonPid) exitWithDaemon(`PM2 daemon ${daemonPid} is gone`);
    }, 1000).unref();
    process.send('ready');
  }

  while (!stopping) {
    if (Date.now() - listedAt >= LIST_REFRESH_MS || files.length === 0) {
      try {
        const listed = await listLogFiles(config.namespace);
        if (listed === null) {
          if (!daemonMissing) log('devctl-logrotate: no PM2 daemon answers; retrying');
          daemonMissing = true;
        } else {
          files = listed;
          listedAt = Date.now();
          daemonMissing = false;
        }
      } catch (error) {
        log(`devctl-logrotate: cannot list the PM2 processes: ${(error as Error).message}; retrying`);
      }
    }
    for (const file of files) {
      try {
        const rotation = rotateIfLarge(file, config.maxBytes, config.keep);
        if (rotation) {
          log(
            `devctl-logrotate: rotated ${file} (${mib(rotation.bytes)}) to ${file}.1${rotation.removed.length > 0 ? `, removed ${rotation.removed.join(', ')}` : ''}`,
          );
        }
      } catch (error) {
        process.stderr.write(`devctl-logrotate: cannot rotate ${file}: ${(error as Error).message}\n`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, config.intervalMs));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `devctl-logrotate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
