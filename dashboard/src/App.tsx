import { createTheme, MantineProvider } from '@mantine/core';
import { ModalsProvider } from '@mantine/modals';
import { Notifications } from '@mantine/notifications';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { createBrowserRouter, RouterProvider, type RouteObject } from 'react-router';
import { ApiError } from './api';
import { AuthProvider } from './auth/AuthContext';
import { RequireAuth } from './Layout';
import { AgentDetailPage } from './pages/AgentDetailPage';
import { AgentsPage } from './pages/AgentsPage';
import { ApiDetailPage } from './pages/ApiDetailPage';
import { ApisPage } from './pages/ApisPage';
import { AuditPage } from './pages/AuditPage';
import { KeysPage } from './pages/KeysPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { OrgsPage } from './pages/OrgsPage';
import { OverviewPage } from './pages/OverviewPage';
import { SignInPage } from './pages/SignInPage';
import { TrustedIssuerDetailPage } from './pages/TrustedIssuerDetailPage';
import { TrustedIssuersPage } from './pages/TrustedIssuersPage';

export const theme = createTheme({
  primaryColor: 'indigo',
  defaultRadius: 'md',
  fontFamily:
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif',
  fontFamilyMonospace: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace',
});

export const routes: RouteObject[] = [
  { path: '/signin', element: <SignInPage /> },
  {
    element: <RequireAuth />,
    children: [
      { index: true, element: <OverviewPage /> },
      { path: 'agents', element: <AgentsPage /> },
      { path: 'agents/:agentId', element: <AgentDetailPage /> },
      { path: 'apis', element: <ApisPage /> },
      { path: 'apis/:apiId', element: <ApiDetailPage /> },
      { path: 'trusted-issuers', element: <TrustedIssuersPage /> },
      { path: 'trusted-issuers/:issuerId', element: <TrustedIssuerDetailPage /> },
      { path: 'audit', element: <AuditPage /> },
      { path: 'orgs', element: <OrgsPage /> },
      { path: 'keys', element: <KeysPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: false,
        // Don't retry client errors (401/403/404/validation); retry other failures once.
        retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 1,
      },
    },
  });
}

export function Providers({ children, queryClient }: { children: React.ReactNode; queryClient: QueryClient }) {
  return (
    <MantineProvider theme={theme} defaultColorScheme="light">
      <QueryClientProvider client={queryClient}>
        <AuthProvider>
          <ModalsProvider labels={{ confirm: 'Confirm', cancel: 'Cancel' }}>
            <Notifications position="bottom-right" />
            {children}
          </ModalsProvider>
        </AuthProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}

export function App() {
  const [queryClient] = useState(makeQueryClient);
  const [router] = useState(() => createBrowserRouter(routes, { basename: '/dashboard' }));
  return (
    <Providers queryClient={queryClient}>
      <RouterProvider router={router} />
    </Providers>
  );
}
