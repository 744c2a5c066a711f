import { AppShell, Burger, Button, Divider, Group, NavLink, ScrollArea, Text, Title, Tooltip } from '@mantine/core';
import { useDisclosure, useInterval } from '@mantine/hooks';
import { IconApi, IconBuilding, IconChartBar, IconKey, IconListDetails, IconLogout, IconRobot, IconShieldCheck } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, Navigate, Outlet, useLocation } from 'react-router';
import { useAuth } from './auth/AuthContext';
import { OrgSwitcher } from './components/OrgSwitcher';
import { OrgScopeProvider, useOrgScope } from './org/OrgScope';

const NAV = [
  { to: '/', label: 'Overview', icon: IconChartBar, exact: true },
  { to: '/agents', label: 'Agents', icon: IconRobot },
  { to: '/apis', label: 'APIs', icon: IconApi, scope: 'apis:read' },
  { to: '/trusted-issuers', label: 'Trusted issuers', icon: IconShieldCheck, scope: 'credentials:read' },
  { to: '/audit', label: 'Audit log', icon: IconListDetails },
  { to: '/orgs', label: 'Organizations', icon: IconBuilding, scope: 'orgs:admin' },
  { to: '/keys', label: 'Signing keys', icon: IconKey, scope: 'keys:admin' },
];

function SessionClock({ expiresAt }: { expiresAt: number }) {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), 15000, { autoInvoke: true });
  const minutes = Math.max(0, Math.round((expiresAt - now) / 60000));
  return (
    <Text size="xs" c={minutes <= 5 ? 'orange' : 'dimmed'} visibleFrom="sm">
      Session ends in {minutes} min
    </Text>
  );
}

/** Redirects to the sign-in page when there is no token. */
export function RequireAuth() {
  const { session } = useAuth();
  const location = useLocation();
  if (!session) return <Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />;
  return <Layout />;
}

export function Layout() {
  return (
    <OrgScopeProvider>
      <Shell />
    </OrgScopeProvider>
  );
}

function Shell() {
  const { session, signOut, hasScope } = useAuth();
  const { selected } = useOrgScope();
  const [opened, { toggle, close }] = useDisclosure(false);
  const location = useLocation();

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={1} size="h4">
              AgentIdP
            </Title>
            <Text size="sm" c="dimmed" visibleFrom="xs">
              console
            </Text>
          </Group>
          <Group gap="md" wrap="nowrap">
            {session && <SessionClock expiresAt={session.expiresAt} />}
            {session && (
              <Tooltip label={`Signed in as ${session.clientId}`}>
                <Text size="xs" ff="monospace" c="dimmed" visibleFrom="md">
                  {session.clientId.slice(0, 8)}…
                </Text>
              </Tooltip>
            )}
            <Button variant="default" size="xs" leftSection={<IconLogout size={14} />} onClick={signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        <AppShell.Section pt={4}>
          <OrgSwitcher />
          <Divider mb="xs" />
        </AppShell.Section>
        <AppShell.Section grow component={ScrollArea}>
          {NAV.filter((n) => !n.scope || hasScope(n.scope)).map((n) => {
            const active = n.exact ? location.pathname === n.to : location.pathname === n.to || location.pathname.startsWith(`${n.to}/`);
            return (
              <NavLink
                key={n.to}
                component={Link}
                to={n.to}
                label={n.label}
                leftSection={<n.icon size={18} stroke={1.6} />}
                active={active}
                aria-current={active ? 'page' : undefined}
                onClick={close}
              />
            );
          })}
        </AppShell.Section>
        <AppShell.Section>
          <Tooltip label={session?.scopes.join(' ') || 'none'} multiline maw={260} position="top-start">
            <Text size="xs" c="dimmed" px="sm" py="xs" tabIndex={0}>
              Token scopes: {session?.scopes.length ?? 0}
            </Text>
          </Tooltip>
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main>
        {/* A switch of organization starts each page afresh (filters, pages, forms). */}
        <Outlet key={selected} />
      </AppShell.Main>
    </AppShell>
  );
}
