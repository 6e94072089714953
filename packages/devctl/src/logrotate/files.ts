// The log files PM2 writes for the processes of one namespace, asked of the daemon over its RPC
// socket (devctl's own connection: never starts a daemon, never reads an environment value).
import type { RawProcess } from '../pm2/index';
import { rawProcessList, withDaemon } from '../pm2/index';

type WithLogPaths = RawProcess & { pm2_env?: RawProcess['pm2_env'] & { pm_log_path?: string } };

/** Every distinct out, error and combined log path of the namespace; null when no daemon runs. */
export async function listLogFiles(namespace: string | undefined): Promise<string[] | null> {
  return withDaemon(async (connection) => {
    const processes = (await rawProcessList(connection)) as WithLogPaths[];
    const files = new Set<string>();
    for (const process of processes) {
      const env = process.pm2_env ?? {};
      if (namespace !== undefined && (env.namespace ?? 'default') !== namespace) continue;
      for (const path of [env.pm_out_log_path, env.pm_err_log_path, env.pm_log_path]) {
        if (typeof path === 'string' && path !== '' && !path.includes('/dev/null') && !path.includes('NULL'))
          files.add(path);
      }
    }
    return [...files];
  });
}
