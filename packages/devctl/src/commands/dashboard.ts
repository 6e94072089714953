// devctl dashboard [--port N] [--json]: one local page for this checkout's stack (services live,
// graph, logs, findings, traces, actions), served until Ctrl-C. Bound to 127.0.0.1 only, on a free
// port unless --port; the URL it prints carries a random token that every request needs. It opens
// nothing: the person (or agent) opens the URL. Exit 0 on Ctrl-C, 1 when it cannot listen.

import { newToken } from '../dashboard/security';
import { assetsFolder, createDashboardServer } from '../dashboard/server';
import { loadEcosystem } from '../ecosystem/index';
import { CLIError } from '../errors';
import { c } from '../output/colors';

export interface DashboardOptions {
  port: number | undefined;
  json: boolean;
}

export async function runDashboard(options: DashboardOptions): Promise<void> {
  const ecosystem = loadEcosystem();
  // The page is built with devctl (build.mjs), not at run time: say so before printing a URL that
  // could only answer that it is missing.
  if (!assetsFolder()) {
    throw new CLIError(
      'the dashboard page is not built (no dist/dashboard/index.html in packages/devctl); build it with: pnpm --filter @repo/devctl build',
    );
  }
  const token = newToken();
  let port = options.port ?? 0;
  const dashboard = createDashboardServer({ ecosystem, token, port: () => port });
  await new Promise<void>((resolve, reject) => {
    dashboard.server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new CLIError(
          error.code === 'EADDRINUSE'
            ? `port ${options.port} on 127.0.0.1 is taken; pick another with --port, or leave --port out for a free one`
            : `the dashboard cannot listen on 127.0.0.1:${options.port ?? 0}: ${error.message}`,
        ),
      );
    });
    dashboard.server.listen({ host: '127.0.0.1', port }, () => resolve());
  });
  const address = dashboard.server.address();
  port = typeof address === 'object' && address ? address.port : port;
  const url = `http://127.0.0.1:${port}/?token=${token}`;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ url, port, pid: process.pid, namespace: ecosystem.namespace })}\n`,
    );
  } else {
    process.stdout.write(
      `devctl dashboard of ${ecosystem.namespace}: ${c.bold(url)}\n${c.gray('open it in a browser; 127.0.0.1 only, the token is required; Ctrl-C stops it')}\n`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void dashboard.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
