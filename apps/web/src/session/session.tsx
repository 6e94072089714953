// Who is logged in: the JWT lives in localStorage (so a reload keeps the session) and the API
// client reads it on every call.
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { type Api, ApiError, createApi, type User } from '../api/client';

export const TOKEN_KEY = 'devstack.token';

function readToken(): string | null {
  try {
    return window.localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function writeToken(token: string | null): void {
  try {
    if (token) window.localStorage.setItem(TOKEN_KEY, token);
    else window.localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be disabled (private mode); the session then lasts until the page is closed.
  }
}

interface Session {
  api: Api;
  token: string | null;
  /** Null while unknown: not logged in, or /me has not answered (yet). */
  user: User | null;
  logIn: (token: string, user?: User) => void;
  logOut: () => void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children, baseUrl = '' }: { children: ReactNode; baseUrl?: string }) {
  const [token, setToken] = useState<string | null>(readToken);
  const [user, setUser] = useState<User | null>(null);
  const api = useMemo(() => createApi({ baseUrl, getToken: readToken }), [baseUrl]);

  const logIn = useCallback((next: string, known?: User) => {
    writeToken(next);
    setToken(next);
    setUser(known ?? null);
  }, []);

  const logOut = useCallback(() => {
    writeToken(null);
    setToken(null);
    setUser(null);
  }, []);

  useEffect(() => {
    if (!token || user) return;
    let cancelled = false;
    api.me().then(
      (me) => {
        if (!cancelled) setUser(me);
      },
      (error: unknown) => {
        // An expired or foreign token ends the session; an unreachable auth-service does not.
        if (!cancelled && error instanceof ApiError && error.status === 401) logOut();
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, token, user, logOut]);

  const value = useMemo(() => ({ api, token, user, logIn, logOut }), [api, token, user, logIn, logOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession() must be used inside <SessionProvider>');
  return session;
}
