import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import react from '@vitejs/plugin-react';
import { defineConfig, type ProxyOptions } from 'vite';

interface StackFile {
  stack: { web: number };
  apps: { name: string; env?: { PORT?: string } }[];
}

/**
 * This checkout's stack, from the one file PM2 runs (ecosystem.config.js at the repository root):
 * each checkout has its own block of ports (docs/side-by-side.md), so the frontend's port and the
 * gateway it proxies to are this block's. Read only when WEB_PORT or API_GATEWAY_URL is unset.
 */
function thisStack(): { web: number; gateway: string } {
  const ecosystem = createRequire(import.meta.url)('../../ecosystem.config.js') as StackFile;
  const gatewayPort = ecosystem.apps.find((app) => app.name === 'api-gateway')?.env?.PORT ?? '3000';
  return { web: ecosystem.stack.web, gateway: `http://127.0.0.1:${gatewayPort}` };
}

// The frontend talks only to api-gateway, through /api on its own origin (no CORS): the dev server
// and `vite preview` both forward /api to API_GATEWAY_URL, else this stack's gateway.
const stack = process.env.API_GATEWAY_URL && process.env.WEB_PORT ? undefined : thisStack();
const gatewayUrl = process.env.API_GATEWAY_URL ?? (stack as { gateway: string }).gateway;
// The stack's web port (5173 for the first checkout); tests pick another one with WEB_PORT.
const port = Number(process.env.WEB_PORT ?? (stack as { web: number }).web);

const apiProxy: Record<string, ProxyOptions> = {
  '/api': {
    target: gatewayUrl,
    configure(proxy) {
      // Vite answers an unreachable target with an empty 502; answer JSON in the gateway's own
      // `{message}` shape instead, so the page can say which service is down and what to run.
      proxy.on('error', (error: NodeJS.ErrnoException, _request, response) => {
        const res = response as ServerResponse;
        if (!('req' in res) || res.headersSent || res.writableEnded) return;
        res.writeHead(502, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            message: `no answer from ${gatewayUrl} (${error.code ?? error.message}); start the backends with: pnpm pm2:start`,
            upstream: 'api-gateway',
            code: error.code,
          }),
        );
      });
    },
  },
};

export default defineConfig({
  plugins: [react()],
  server: { host: '127.0.0.1', port, strictPort: true, proxy: apiProxy },
  preview: {
    host: '127.0.0.1',
    // The preview's port moves with the block as the dev server's does (4173 for the first checkout).
    port: Number(process.env.WEB_PORT ?? 4173 + ((stack?.web ?? 5173) - 5173)),
    strictPort: true,
    proxy: apiProxy,
  },
  build: { outDir: 'dist', sourcemap: true },
});
