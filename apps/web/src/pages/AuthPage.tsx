import { type FormEvent, useState } from 'react';
import { ApiError } from '../api/client';
import { ErrorMessage } from '../components/ErrorMessage';
import { Link, navigate } from '../router/router';
import { useSession } from '../session/session';

/** Sign up and log in share one page: the same two inputs, a different call. */
export function AuthPage({ mode, next = '/forms' }: { mode: 'login' | 'signup'; next?: string }) {
  const { api, logIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === 'signup';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (signup && password.length < 8) {
      setError(new ApiError(400, 'The password needs at least 8 characters.', 'auth-service'));
      return;
    }
    setBusy(true);
    try {
      if (signup) {
        const { token, user } = await api.signup(email.trim(), password);
        logIn(token, user);
      } else {
        const { token } = await api.login(email.trim(), password);
        logIn(token);
      }
      navigate(next.startsWith('/') ? next : '/forms', { replace: true });
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <section className="narrow">
      <h1>{signup ? 'Create your account' : 'Log in'}</h1>
      <form className="card" onSubmit={submit} aria-label={signup ? 'Sign up' : 'Log in'}>
        <label className="stacked">
          Email
          <input
            type="email"
            name="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label className="stacked">
          Password
          <input
            type="password"
            name="password"
            autoComplete={signup ? 'new-password' : 'current-password'}
            required
            minLength={signup ? 8 : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Please wait…' : signup ? 'Sign up' : 'Log in'}
        </button>
      </form>
      <p className="muted">
        {signup ? (
          <>
            Already have an account? <Link to="/login">Log in</Link>
          </>
        ) : (
          <>
            No account yet? <Link to="/signup">Sign up</Link>
          </>
        )}
      </p>
    </section>
  );
}
