import type { ServerResponse } from 'node:http';
import react from '@vitejs/plugin-react';
import { defineConfig, type ProxyOptions } from 'vite';

// The frontend talks only to api-gateway, through /api on its own origin (no CORS): the dev server
// and `vite preview` both forward /api to API_GATEWAY_URL.
const gatewayUrl = process.env.API_GATEWAY_URL ?? 'http://127.0.0.1:3000';
// 5173 is the stack's port; tests and second copies pick another one with WEB_PORT.
const port = Number(process.env.WEB_PORT ?? 5173);

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
    port: Number(process.env.WEB_PORT ?? 4173),
    strictPort: true,
    proxy: apiProxy,
  },
  build: { outDir: 'dist', sourcemap: true },
});
