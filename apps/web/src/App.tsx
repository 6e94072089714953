import { type ReactNode, useEffect } from 'react';
import { ErrorBoundary } from './components/ErrorBoundary';
import { AuthPage } from './pages/AuthPage';
import { FillFormPage } from './pages/FillFormPage';
import { FormsPage } from './pages/FormsPage';
import { StatusPage } from './pages/StatusPage';
import { SubmissionsPage } from './pages/SubmissionsPage';
import { Link, matchPath, navigate, useLocation } from './router/router';
import { SessionProvider, useSession } from './session/session';

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

/** Pages of the owner: without a token, go to the login page and come back after. */
function RequireLogin({ children }: { children: ReactNode }) {
  const { token } = useSession();
  const { path } = useLocation();
  if (!token) return <Redirect to={`/login?next=${encodeURIComponent(path)}`} />;
  return <>{children}</>;
}

function Page() {
  const { path, query } = useLocation();
  const { token } = useSession();
  const next = query.get('next') ?? '/forms';

  if (path === '/') return <Redirect to={token ? '/forms' : '/login'} />;
  if (path === '/login') return <AuthPage key="login" mode="login" next={next} />;
  if (path === '/signup') return <AuthPage key="signup" mode="signup" next={next} />;
  if (path === '/status') return <StatusPage />;
  if (path === '/forms')
    return (
      <RequireLogin>
        <FormsPage />
      </RequireLogin>
    );
  const submissions = matchPath('/forms/:id/submissions', path);
  if (submissions)
    return (
      <RequireLogin>
        <SubmissionsPage formId={submissions.id as string} />
      </RequireLogin>
    );
  const fill = matchPath('/f/:id', path);
  if (fill) return <FillFormPage formId={fill.id as string} />;
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
  const { token, user, logOut } = useSession();
  return (
    <header className="top">
      <nav aria-label="Main">
        <Link to="/" className="brand">
          devstack forms
        </Link>
        {token ? <Link to="/forms">My forms</Link> : null}
        <Link to="/status">Status</Link>
      </nav>
      <div className="account">
        {token ? (
          <>
            <span className="muted" data-testid="current-user">
              {user?.email ?? ''}
            </span>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                logOut();
                navigate('/login');
              }}
            >
              Log out
            </button>
          </>
        ) : (
          <>
            <Link to="/login">Log in</Link>
            <Link to="/signup" className="button">
              Sign up
            </Link>
          </>
        )}
      </div>
    </header>
  );
}

export function App({ apiBaseUrl = '' }: { apiBaseUrl?: string }) {
  const { path } = useLocation();
  return (
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
