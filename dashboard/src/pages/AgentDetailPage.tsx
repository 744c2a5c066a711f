import { useMemo, useState } from 'react';
import {
  ActionIcon,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  EmptyState,
  Group,
  Menu,
  Modal,
  NumberInput,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
  VisuallyHidden,
} from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  IconDots,
  IconEdit,
  IconPlayerPause,
  IconPlayerPlay,
  IconPlus,
  IconRefresh,
  IconTrash,
} from '@tabler/icons-react';
import { Link, useNavigate, useParams } from 'react-router';
import {
  collectPages,
  errorMessage,
  type Agent,
  type AgentCreate,
  type Credential,
  type CredentialIssue,
  type IssuedCredential,
  type TrustedIssuer,
} from '../api';
import { useApi, useAuth } from '../auth/AuthContext';
import { AgentForm } from '../components/AgentForm';
import { AuditTable } from '../components/AuditTable';
import { AgentStatusBadge, CredentialStatusBadge, CredentialTypeBadge, DPoPBadge } from '../components/Badges';
import { CopyIcon } from '../components/CopyField';
import { BackLink, DetailState, Field } from '../components/DetailParts';
import { CursorPagination } from '../components/CursorPagination';
import { DelegatesList } from '../components/Delegates';
import { ErrorAlert } from '../components/ErrorAlert';
import { GrantsCard } from '../components/GrantsCard';
import { IssueCredentialModal } from '../components/IssueCredentialModal';
import { LazyTokensChart } from '../components/LazyTokensChart';
import { Loading } from '../components/Loading';
import { PageHeader } from '../components/PageHeader';
import { SecretModal } from '../components/SecretModal';
import { useAgentActions } from '../hooks/useAgentActions';
import { useCursorPager } from '../lib/cursorPager';
import { currentMonth, formatDateTime } from '../lib/format';
import { useOrgScope } from '../org/OrgScope';
import { QuotaBar } from './OverviewPage';

export const MAX_GRACE_SECONDS = 86400;

export function RotateModal({
  credential,
  onClose,
  onRotate,
}: {
  credential: Credential | null;
  onClose: () => void;
  onRotate: (grace: number) => Promise<void>;
}) {
  const [grace, setGrace] = useState<number | string>(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const n = typeof grace === 'number' ? grace : Number(grace);
  const invalid = !Number.isInteger(n) || n < 0 || n > MAX_GRACE_SECONDS;
  const close = () => {
    setError(null);
    setGrace(0);
    onClose();
  };
  return (
    <Modal opened={credential !== null} onClose={close} title="Rotate credential">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (invalid) return;
          setBusy(true);
          setError(null);
          try {
            await onRotate(n);
            setGrace(0);
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <Stack>
          <Text size="sm">
            A new credential and secret replace <Code>{credential?.secret_prefix}…</Code>. The old secret keeps
            working for the grace period, then it is revoked.
          </Text>
          <NumberInput
            label="Grace period (seconds)"
            description="0 revokes the old secret now; at most 86400 (24 h)"
            min={0}
            max={MAX_GRACE_SECONDS}
            step={60}
            allowDecimal={false}
            allowNegative={false}
            value={grace}
            onChange={setGrace}
            error={invalid ? 'A whole number from 0 to 86400' : undefined}
            data-autofocus
          />
          <ErrorAlert error={error} title="Could not rotate" />
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={busy}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={invalid} leftSection={<IconRefresh size={16} />}>
              Rotate
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** How a credential is shown: a secret's prefix, a key set's kids, a federated one's issuer and subject. */
export function CredentialIdentity({ c, issuers }: { c: Credential; issuers: Map<string, TrustedIssuer> | undefined }) {
  const type = c.type ?? 'secret';
  if (type === 'private_key_jwt') {
    return (
      <Stack gap={2}>
        {(c.kids ?? []).map((k) => (
          <Text key={k} ff="monospace" size="sm" title="kid">
            {k}
          </Text>
        ))}
      </Stack>
    );
  }
  if (type === 'federated') {
    const ti = c.trusted_issuer_id ? issuers?.get(c.trusted_issuer_id) : undefined;
    return (
      <Stack gap={0}>
        {ti ? (
          <Text size="sm" ff="monospace" title={`trusted issuer ${ti.trusted_issuer_id}`}>
            <Anchor component={Link} to={`/trusted-issuers/${ti.trusted_issuer_id}`} inherit>
              {ti.issuer}
            </Anchor>
          </Text>
        ) : (
          <Text size="sm" c="dimmed" title={c.trusted_issuer_id}>
            {issuers ? 'deleted trusted issuer' : 'trusted issuer'} {c.trusted_issuer_id?.slice(0, 8)}…
          </Text>
        )}
        <Text size="sm" ff="monospace">
          <Text span size="xs" c="dimmed" ff="inherit">
            sub{' '}
          </Text>
          {c.subject}
        </Text>
      </Stack>
    );
  }
  return (
    <Text ff="monospace" size="sm">
      {c.secret_prefix}…
    </Text>
  );
}

/** A short name of a credential for menus and notifications. */
export function credentialLabel(c: Credential): string {
  switch (c.type ?? 'secret') {
    case 'private_key_jwt':
      return `key ${(c.kids ?? []).join(', ')}`;
    case 'federated':
      return `federated ${c.subject ?? ''}`;
    default:
      return `${c.secret_prefix}…`;
  }
}

function CredentialsCard({ agent }: { agent: Agent }) {
  const api = useApi();
  const { hasScope } = useAuth();
  const scope = useOrgScope();
  const canWrite = hasScope('credentials:write') && agent.status !== 'decommissioned';
  const qc = useQueryClient();
  const pager = useCursorPager();
  const [issuing, setIssuing] = useState(false);
  const [rotating, setRotating] = useState<Credential | null>(null);
  const [secret, setSecret] = useState<{ issued: IssuedCredential; title: string } | null>(null);

  const creds = useQuery({
    queryKey: ['credentials', agent.agent_id, pager.cursor],
    queryFn: ({ signal }) => api.listCredentials(agent.agent_id, { limit: 50, cursor: pager.cursor }, signal),
    placeholderData: keepPreviousData,
  });
  // The organization's live trusted issuers: to name a federated credential's issuer and to pick one.
  const issuerOrg = scope.operator ? agent.org_id : undefined;
  const issuers = useQuery({
    queryKey: ['trusted-issuers', 'all', issuerOrg ?? null],
    queryFn: ({ signal }) =>
      collectPages((cursor) => api.listTrustedIssuers({ org_id: issuerOrg, limit: 200, cursor }, signal), 5),
    staleTime: 30_000,
  });
  const issuerById = useMemo(
    () => (issuers.data ? new Map(issuers.data.items.map((i) => [i.trusted_issuer_id, i])) : undefined),
    [issuers.data],
  );
  const refresh = () => {
    qc.invalidateQueries({ queryKey: ['credentials', agent.agent_id] });
    qc.invalidateQueries({ queryKey: ['audit'] });
  };

  const issue = async (body: CredentialIssue) => {
    if (body.type === 'private_key_jwt' || body.type === 'federated') {
      const made = await api.issueKeyCredential(agent.agent_id, body);
      setIssuing(false);
      notifications.show({
        color: 'teal',
        title: made.type === 'federated' ? 'Federated credential issued' : 'Key credential issued',
        message: credentialLabel(made),
      });
    } else {
      const issued = await api.issueCredential(agent.agent_id, body);
      setIssuing(false);
      setSecret({ issued, title: 'Credential issued' });
    }
    refresh();
  };
  const rotate = async (grace: number) => {
    if (!rotating) return;
    const issued = await api.rotateCredential(agent.agent_id, rotating.credential_id, grace);
    setRotating(null);
    setSecret({ issued, title: 'Credential rotated' });
    refresh();
  };
  const revoke = (c: Credential) =>
    modals.openConfirmModal({
      title: 'Revoke credential?',
      children: (
        <Text size="sm">
          {(c.type ?? 'secret') === 'secret' ? (
            <>
              The secret <Code>{c.secret_prefix}…</Code> stops working now, and so do the tokens it minted.
            </>
          ) : (
            <>
              The credential <Code>{credentialLabel(c)}</Code> stops working now, and so do the tokens it minted.
            </>
          )}
        </Text>
      ),
      labels: { confirm: 'Revoke', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: async () => {
        try {
          await api.revokeCredential(agent.agent_id, c.credential_id);
          notifications.show({ color: 'gray', title: 'Credential revoked', message: credentialLabel(c) });
          refresh();
        } catch (err) {
          notifications.show({ color: 'red', title: 'Could not revoke', message: errorMessage(err) });
        }
      },
    });

  const items = creds.data?.items ?? [];
  return (
    <Card withBorder radius="md" component="section" aria-label="Credentials">
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h4">
          Credentials
        </Title>
        {canWrite && (
          <Button size="xs" leftSection={<IconPlus size={14} />} onClick={() => setIssuing(true)}>
            Issue credential
          </Button>
        )}
      </Group>
      {creds.isPending && <Loading label="Loading credentials" />}
      {creds.isError && <ErrorAlert error={creds.error} title="Could not load credentials" />}
      {creds.isSuccess && items.length === 0 && (
        <EmptyState size="sm" title="No credentials" description="Issue one to let the agent get tokens." />
      )}
      {items.length > 0 && (
        <Table.ScrollContainer minWidth={1100}>
          <Table verticalSpacing="xs" fz="sm" aria-label="Credentials" style={{ whiteSpace: 'nowrap' }}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th miw={280}>Credential</Table.Th>
                <Table.Th miw={110}>Type</Table.Th>
                <Table.Th miw={100}>Status</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>Revoked</Table.Th>
                <Table.Th w={50}>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((c) => (
                <Table.Tr key={c.credential_id} data-credential-id={c.credential_id}>
                  <Table.Td style={{ whiteSpace: 'normal', wordBreak: 'break-all' }}>
                    <CredentialIdentity c={c} issuers={issuerById} />
                    <Text ff="monospace" size="xs" c="dimmed">
                      {c.credential_id}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <CredentialTypeBadge type={c.type ?? 'secret'} />
                  </Table.Td>
                  <Table.Td>
                    <CredentialStatusBadge status={c.status} />
                    {c.rotated_from && (
                      <Text size="xs" c="dimmed">
                        rotated
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td title={c.created_at}>{formatDateTime(c.created_at, false)}</Table.Td>
                  <Table.Td title={c.expires_at ?? undefined}>{c.expires_at ? formatDateTime(c.expires_at, false) : 'never'}</Table.Td>
                  <Table.Td title={c.last_used_at ?? undefined}>{c.last_used_at ? formatDateTime(c.last_used_at, false) : 'never'}</Table.Td>
                  <Table.Td>
                    {c.revoked_at && c.status === 'active' && new Date(c.revoked_at).getTime() > Date.now() ? (
                      <Tooltip label="The old secret works until the grace period ends">
                        <Text size="sm" c="orange">
                          at {formatDateTime(c.revoked_at, false)}
                        </Text>
                      </Tooltip>
                    ) : (
                      formatDateTime(c.revoked_at, false)
                    )}
                  </Table.Td>
                  <Table.Td>
                    {canWrite && c.status === 'active' && (
                      <Menu position="bottom-end">
                        <Menu.Target>
                          <ActionIcon variant="subtle" color="gray" aria-label={`Actions for credential ${credentialLabel(c)}`}>
                            <IconDots size={16} />
                          </ActionIcon>
                        </Menu.Target>
                        <Menu.Dropdown>
                          {(c.type ?? 'secret') === 'secret' && (
                            <Menu.Item leftSection={<IconRefresh size={14} />} onClick={() => setRotating(c)}>
                              Rotate
                            </Menu.Item>
                          )}
                          <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={() => revoke(c)}>
                            Revoke
                          </Menu.Item>
                        </Menu.Dropdown>
                      </Menu>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <CursorPagination pager={pager} nextCursor={creds.data?.next_cursor} loading={creds.isFetching} />
      <IssueCredentialModal
        opened={issuing}
        onClose={() => setIssuing(false)}
        onIssue={issue}
        issuers={issuers.data?.items}
        issuersError={issuers.error}
      />
      <RotateModal credential={rotating} onClose={() => setRotating(null)} onRotate={rotate} />
      <SecretModal issued={secret?.issued ?? null} title={secret?.title} onClose={() => setSecret(null)} />
    </Card>
  );
}

function UsageCard({ agentId }: { agentId: string }) {
  const api = useApi();
  const usage = useQuery({ queryKey: ['usage', agentId], queryFn: ({ signal }) => api.agentUsage(agentId, signal) });
  const month = currentMonth();
  const thisMonth = usage.data?.months.find((m) => m.month === month);
  return (
    <Card withBorder radius="md">
      <Title order={3} size="h4" mb="sm">
        Usage
      </Title>
      {usage.isPending && <Loading label="Loading usage" />}
      {usage.isError && <ErrorAlert error={usage.error} title="Could not load usage" />}
      {usage.isSuccess && (
        <Stack>
          <QuotaBar month={thisMonth} />
          <LazyTokensChart days={usage.data.days} height={220} />
        </Stack>
      )}
    </Card>
  );
}

function RecentAuditCard({ agentId }: { agentId: string }) {
  const api = useApi();
  const events = useQuery({
    queryKey: ['audit', 'agent', agentId],
    queryFn: ({ signal }) => api.listAudit({ agent_id: agentId, limit: 10 }, signal),
  });
  return (
    <Card withBorder radius="md">
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h4">
          Recent audit events
        </Title>
        <Anchor component={Link} to={`/audit?agent_id=${encodeURIComponent(agentId)}`} size="sm">
          View all
        </Anchor>
      </Group>
      {events.isPending && <Loading label="Loading audit events" />}
      {events.isError && <ErrorAlert error={events.error} title="Could not load audit events" />}
      {events.isSuccess && events.data.items.length === 0 && <Text c="dimmed" size="sm">No events yet.</Text>}
      {events.isSuccess && events.data.items.length > 0 && <AuditTable events={events.data.items} showAgent={false} />}
    </Card>
  );
}

export function AgentDetailPage() {
  const { agentId = '' } = useParams();
  const api = useApi();
  const { hasScope } = useAuth();
  const navigate = useNavigate();
  const actions = useAgentActions();
  const scope = useOrgScope();
  const [editing, setEditing] = useState(false);
  const agent = useQuery({ queryKey: ['agent', agentId], queryFn: ({ signal }) => api.getAgent(agentId, signal) });

  const back = <BackLink to="/agents">Agents</BackLink>;
  if (!agent.isSuccess) return <DetailState query={agent} back={back} noun="agent" notFound={`No agent has the id ${agentId}.`} />;
  const a = agent.data;
  const canWrite = hasScope('agents:write') && a.status !== 'decommissioned';
  const save = async (payload: Partial<AgentCreate>) => {
    const updated = await api.updateAgent(a.agent_id, payload);
    actions.refresh(updated);
    setEditing(false);
    notifications.show({ color: 'teal', title: 'Agent saved', message: updated.name });
  };

  return (
    <>
      {back}
      <PageHeader
        title={a.name}
        description={
          <Group gap="xs">
            <AgentStatusBadge status={a.status} />
            {a.require_dpop && <DPoPBadge />}
          </Group>
        }
        actions={
          canWrite && (
            <>
              <Button variant="default" leftSection={<IconEdit size={16} />} onClick={() => setEditing(true)}>
                Edit
              </Button>
              {a.status === 'active' ? (
                <Button variant="light" color="orange" leftSection={<IconPlayerPause size={16} />} onClick={() => actions.suspend(a)}>
                  Suspend
                </Button>
              ) : (
                <Button variant="light" color="teal" leftSection={<IconPlayerPlay size={16} />} onClick={() => actions.reactivate(a)}>
                  Reactivate
                </Button>
              )}
              <Button variant="light" color="red" leftSection={<IconTrash size={16} />} onClick={() => actions.decommission(a, () => navigate('/agents'))}>
                Decommission
              </Button>
            </>
          )
        }
      />
      <Stack gap="lg">
        <Card withBorder radius="md">
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md" verticalSpacing="md">
            <Field label="Agent ID (client_id)">
              <Group gap={4} wrap="nowrap">
                <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                  {a.agent_id}
                </Text>
                <CopyIcon value={a.agent_id} label="Copy agent id" />
              </Group>
            </Field>
            <Field label="Organization">
              <Text size="sm" title={a.org_id}>
                {scope.orgName(a.org_id)}
              </Text>
            </Field>
            <Field label="Owner">{a.owner || '—'}</Field>
            <Field label="Plan">
              <Badge variant="outline" color={a.plan === 'unlimited' ? 'violet' : 'gray'}>
                {a.plan}
              </Badge>
            </Field>
            <Field label="Description">{a.description || '—'}</Field>
            <Field label="Created">{formatDateTime(a.created_at)}</Field>
            <Field label="Updated">{formatDateTime(a.updated_at)}</Field>
            <Field label="Allowed scopes">
              {a.allowed_scopes.length ? (
                <Group gap={4} mt={2}>
                  {a.allowed_scopes.map((s) => (
                    <Badge key={s} variant="light" size="sm" tt="none">
                      {s}
                    </Badge>
                  ))}
                </Group>
              ) : (
                'none'
              )}
            </Field>
            <Field label="Allowed audiences">
              {a.allowed_audiences.length ? (
                <Stack gap={0}>
                  {a.allowed_audiences.map((u) => (
                    <Text key={u} size="sm" ff="monospace">
                      {u}
                    </Text>
                  ))}
                </Stack>
              ) : (
                'this server only'
              )}
            </Field>
            {a.require_dpop !== undefined && (
              <Field label="Require DPoP">
                {a.require_dpop ? 'yes: token requests without a DPoP proof fail (invalid_dpop_proof)' : 'no'}
              </Field>
            )}
            {a.delegates !== undefined && (
              <Field label="Delegates (may act for it)">
                <DelegatesList delegates={a.delegates} orgId={a.org_id} />
              </Field>
            )}
            <Field label="Metadata">
              {Object.keys(a.metadata ?? {}).length ? (
                <Tooltip label="Edit to change the metadata">
                  <Code block mt={2} style={{ maxHeight: 180, overflow: 'auto' }}>
                    {JSON.stringify(a.metadata, null, 2)}
                  </Code>
                </Tooltip>
              ) : (
                '{}'
              )}
            </Field>
          </SimpleGrid>
        </Card>
        {a.grants !== undefined && <GrantsCard agent={a} />}
        {hasScope('credentials:read') && <CredentialsCard agent={a} />}
        {hasScope('usage:read') && <UsageCard agentId={a.agent_id} />}
        {hasScope('audit:read') && <RecentAuditCard agentId={a.agent_id} />}
      </Stack>
      <Modal opened={editing} onClose={() => setEditing(false)} title={`Edit ${a.name}`} size="lg">
        <AgentForm initial={a} submitLabel="Save changes" onSubmit={save} onCancel={() => setEditing(false)} />
      </Modal>
    </>
  );
}
