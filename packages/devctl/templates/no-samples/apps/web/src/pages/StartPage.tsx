import { Link } from '../router/router';

/** What this frontend is and where it grows: the first page of a project without the samples. */
export function StartPage() {
  return (
    <section className="narrow">
      <h1>The frontend starts here</h1>
      <p>
        This is <code>apps/web</code>: Vite and React with hot reload. It talks only to api-gateway, through{' '}
        <code>/api</code> on its own origin; the dev server forwards those calls to the gateway.
      </p>
      <p>
        <Link to="/status">The status page</Link> shows the health of each backend from the gateway's{' '}
        <code>GET /api/health</code>.
      </p>
      <p className="muted">
        To add a page: a component in <code>src/pages/</code>, its path in <code>src/App.tsx</code>, its calls
        to the gateway in <code>src/api/client.ts</code> (<code>apps/web/README.md</code> says more).
      </p>
    </section>
  );
}
