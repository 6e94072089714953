import { ErrorBoundary } from './components/ErrorBoundary';
import { StartPage } from './pages/StartPage';
import { StatusPage } from './pages/StatusPage';
import { Link, useLocation } from './router/router';
import { SessionProvider } from './session/session';

/** One line per path; `matchPath('/things/:id', path)` from the router reads a path's parameters. */
function Page() {
  const { path } = useLocation();
  if (path === '/') return <StartPage />;
  if (path === '/status') return <StatusPage />;
  return (
    <section className="narrow">
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/">Go to the start page</Link>.
      </p>
    </section>
  );
}

function Header() {
  return (
    <header className="top">
      <nav aria-label="Main">
        <Link to="/" className="brand">
          Start
        </Link>
        <Link to="/status">Status</Link>
      </nav>
    </header>
  );
}

export function App({ apiBaseUrl = '' }: { apiBaseUrl?: string }) {
  const { path } = useLocation();
  return (
    // The session carries a login token to the gateway's `bearer` routes, once a service issues one.
    <SessionProvider baseUrl={apiBaseUrl}>
      <Header />
      <main>
        {/* Keyed by path: a crash on one page does not follow the user to the next. */}
        <ErrorBoundary key={path}>
          <Page />
        </ErrorBoundary>
      </main>
    </SessionProvider>
  );
}
