import { MantineProvider } from '@mantine/core';
import { ModalsProvider } from '@mantine/modals';
import { Notifications } from '@mantine/notifications';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { createMemoryRouter, RouterProvider, type RouteObject } from 'react-router';
import { vi } from 'vitest';
import { theme } from '../App';
import type { FetchLike } from '../api';
import { AuthProvider } from '../auth/AuthContext';
import { OrgScopeProvider } from '../org/OrgScope';

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

export function problem(status: number, code: string, detail: string, errors?: { field: string; message: string }[]): Response {
  return new Response(
    JSON.stringify({ type: `https://agentidp.dev/problems/${code}`, title: code, status, detail, code, errors, request_id: 'req-1' }),
    { status, headers: { 'Content-Type': 'application/problem+json', 'X-Request-Id': 'req-1' } },
  );
}

export type Route = (url: URL, init: RequestInit) => Response | Promise<Response> | undefined;

/** A fetch mock answering by method + path; records every call. */
export function mockFetch(routes: Record<string, Route>) {
  const fn = vi.fn<FetchLike>(async (input, init = {}) => {
    const url = new URL(input, 'http://localhost');
    const key = `${(init.method ?? 'GET').toUpperCase()} ${url.pathname}`;
    const r = routes[key];
    const res = r ? await r(url, init) : undefined;
    return res ?? problem(404, 'not_found', `no mock for ${key}`);
  });
  return fn;
}

export function headerOf(init: RequestInit | undefined, name: string): string | null {
  return new Headers(init?.headers).get(name);
}

export function makeTestQueryClient() {
  return new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity }, mutations: { retry: false } } });
}

export function Wrapper({ children, fetch }: { children: ReactNode; fetch?: FetchLike }) {
  const qc = makeTestQueryClient();
  return (
    <MantineProvider theme={theme}>
      <QueryClientProvider client={qc}>
        <AuthProvider fetch={fetch}>
          <OrgScopeProvider>
            <ModalsProvider>
              <Notifications />
              {children}
            </ModalsProvider>
          </OrgScopeProvider>
        </AuthProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}

export function renderWithProviders(ui: ReactNode, { fetch, path = '/' }: { fetch?: FetchLike; path?: string } = {}) {
  const routes: RouteObject[] = [{ path: '*', element: ui }];
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  return render(
    <Wrapper fetch={fetch}>
      <RouterProvider router={router} />
    </Wrapper>,
  );
}

export function renderRoutes(routes: RouteObject[], { fetch, path = '/' }: { fetch?: FetchLike; path?: string } = {}) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const utils = render(
    <Wrapper fetch={fetch}>
      <RouterProvider router={router} />
    </Wrapper>,
  );
  return { ...utils, router };
}

/** Types a value in one go (paste), much faster than per-key typing in jsdom. */
export async function fill(user: { click: (e: Element) => Promise<void>; paste: (t: string) => Promise<void> }, el: Element, text: string) {
  await user.click(el);
  await user.paste(text);
}

/** An unsigned JWT carrying these claims (the console reads claims for display only). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'RS256', typ: 'at+jwt' })}.${b64(claims)}.c2ln`;
}

export const TEST_CLIENT_ID = '7d3e2c1b-4a5f-4e6d-8c9b-0a1b2c3d4e5f';

/** Fills the sign-in form (rendered by the routes) and submits it. */
export async function signInThroughForm(user: {
  click: (e: Element) => Promise<void>;
  paste: (t: string) => Promise<void>;
}): Promise<void> {
  const { screen } = await import('@testing-library/react');
  await fill(user, await screen.findByLabelText(/client id/i), TEST_CLIENT_ID);
  await fill(user, screen.getByLabelText(/client secret/i), 'sk_live_x');
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
}
