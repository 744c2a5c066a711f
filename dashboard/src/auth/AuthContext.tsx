import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { ApiClient, requestToken, ROOT_ORG_ID, type ClientAuthMethod, type FetchLike } from '../api';

export interface Session {
  accessToken: string;
  clientId: string;
  scopes: string[];
  /**
   * The caller's organization, read from the token's `org_id` claim for display only
   * (naming the org, choosing defaults). Every decision is the server's.
   */
  orgId: string;
  /** epoch milliseconds */
  expiresAt: number;
}

export type EndReason = 'signed_out' | 'expired' | 'unauthorized';

export interface AuthContextValue {
  session: Session | null;
  endReason: EndReason | null;
  api: ApiClient;
  signIn: (clientId: string, clientSecret: string, method?: ClientAuthMethod) => Promise<Session>;
  signOut: () => void;
  hasScope: (scope: string) => boolean;
}

const AuthContext = createContext<AuthContextValue | null>(null);

/** The payload of a JWT, decoded without any verification: for display only. */
export function claimsFromJwt(token: string): Record<string, unknown> {
  try {
    const part = token.split('.')[1];
    if (!part) return {};
    const bin = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const json = new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Reads the `scope` claim of a JWT without verifying it (display only). */
export function scopesFromJwt(token: string): string[] {
  const { scope } = claimsFromJwt(token);
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

/**
 * Reads the `org_id` claim of a JWT without verifying it (display only). A token
 * without one (a server older than organizations) is root's.
 */
export function orgIdFromJwt(token: string): string {
  const { org_id: org } = claimsFromJwt(token);
  return typeof org === 'string' && org ? org : ROOT_ORG_ID;
}

const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * Holds the access token in memory only (React state + a ref for the API
 * client). Nothing is written to localStorage or sessionStorage, and the
 * client secret is never kept: it is passed through to the token request.
 */
export function AuthProvider({ children, fetch, baseUrl }: { children: ReactNode; fetch?: FetchLike; baseUrl?: string }) {
  const queryClient = useQueryClient();
  const [session, setSession] = useState<Session | null>(null);
  const [endReason, setEndReason] = useState<EndReason | null>(null);
  const tokenRef = useRef<string | null>(null);

  const end = useCallback(
    (reason: EndReason) => {
      if (tokenRef.current === null && reason !== 'signed_out') return;
      tokenRef.current = null;
      setSession(null);
      setEndReason(reason);
      queryClient.cancelQueries();
      queryClient.clear();
    },
    [queryClient],
  );

  const api = useMemo(
    () =>
      new ApiClient({
        baseUrl,
        fetch,
        getToken: () => tokenRef.current,
        onUnauthorized: () => end('unauthorized'),
      }),
    [baseUrl, fetch, end],
  );

  // End the session when the token expires.
  useEffect(() => {
    if (!session) return;
    const ms = Math.min(Math.max(session.expiresAt - Date.now(), 0), MAX_TIMEOUT);
    const t = setTimeout(() => end('expired'), ms);
    return () => clearTimeout(t);
  }, [session, end]);

  const signIn = useCallback(
    async (clientId: string, clientSecret: string, method?: ClientAuthMethod) => {
      const tok = await requestToken({ clientId, clientSecret, method, fetch, baseUrl });
      const scopes =
        typeof tok.scope === 'string' ? tok.scope.split(' ').filter(Boolean) : scopesFromJwt(tok.access_token);
      const ttl = Number.isFinite(tok.expires_in) && tok.expires_in > 0 ? tok.expires_in : 3600;
      const s: Session = {
        accessToken: tok.access_token,
        clientId,
        scopes,
        orgId: orgIdFromJwt(tok.access_token),
        expiresAt: Date.now() + ttl * 1000,
      };
      queryClient.clear();
      tokenRef.current = s.accessToken;
      setSession(s);
      setEndReason(null);
      return s;
    },
    [fetch, baseUrl, queryClient],
  );

  const signOut = useCallback(() => end('signed_out'), [end]);
  const hasScope = useCallback((scope: string) => !!session?.scopes.includes(scope), [session]);

  const value = useMemo(
    () => ({ session, endReason, api, signIn, signOut, hasScope }),
    [session, endReason, api, signIn, signOut, hasScope],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth must be used inside <AuthProvider>');
  return ctx;
}

export function useApi(): ApiClient {
  return useAuth().api;
}
