import { useState } from 'react';
import {
  ActionIcon,
  Button,
  Card,
  Code,
  EmptyState,
  Group,
  Menu,
  Modal,
  Select,
  Table,
  Text,
  TextInput,
  VisuallyHidden,
} from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  IconBuilding,
  IconDots,
  IconEdit,
  IconPlayerPause,
  IconPlayerPlay,
  IconPlus,
  IconRobot,
  IconSearch,
} from '@tabler/icons-react';
import { useNavigate } from 'react-router';
import {
  errorMessage,
  ORG_STATUSES,
  ROOT_ORG_ID,
  type IssuedCredential,
  type Org,
  type OrgCreate,
  type OrgCreated,
  type OrgPatch,
  type OrgStatus,
} from '../api';
import { useApi } from '../auth/AuthContext';
import { OrgStatusBadge } from '../components/Badges';
import { CopyIcon } from '../components/CopyField';
import { CursorPagination } from '../components/CursorPagination';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/Loading';
import { OrgForm } from '../components/OrgForm';
import { PageHeader } from '../components/PageHeader';
import { ScopeRequired } from '../components/ScopeRequired';
import { SecretModal } from '../components/SecretModal';
import { useCursorPager } from '../lib/cursorPager';
import { formatDateTime, formatNumber } from '../lib/format';
import { useOrgScope } from '../org/OrgScope';

const PAGE_SIZE = 20;

/** The first admin's credentials in the shape of the secret modal. */
export function adminCredential(created: OrgCreated): IssuedCredential {
  return {
    client_id: created.admin.client_id,
    client_secret: created.admin.client_secret,
    credential_id: created.admin.credential_id,
    expires_at: null,
  };
}

export function OrgsPage() {
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const scope = useOrgScope();
  const pager = useCursorPager();
  const [qInput, setQInput] = useState('');
  const [filters, setFilters] = useState<{ q: string; status: OrgStatus | '' }>({ q: '', status: '' });
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Org | null>(null);
  const [created, setCreated] = useState<OrgCreated | null>(null);

  const apply = (next: Partial<typeof filters>) => {
    setFilters((f) => ({ ...f, ...next }));
    pager.reset();
  };
  const applyDebounced = useDebouncedCallback(apply, 300);

  const list = useQuery({
    queryKey: ['orgs', 'page', filters, pager.cursor],
    queryFn: ({ signal }) => api.listOrgs({ ...filters, limit: PAGE_SIZE, cursor: pager.cursor }, signal),
    placeholderData: keepPreviousData,
    enabled: scope.operator,
  });

  if (!scope.operator) {
    return <ScopeRequired title="Organizations" scope="orgs:admin" />;
  }

  const refresh = (o?: Org) => {
    if (o) qc.setQueryData(['org', o.org_id], o);
    qc.invalidateQueries({ queryKey: ['orgs'] });
    qc.invalidateQueries({ queryKey: ['audit'] });
  };

  const create = async (payload: OrgCreate | OrgPatch) => {
    const c = await api.createOrg(payload as OrgCreate);
    setCreating(false);
    setCreated(c);
    refresh(c.org);
    qc.invalidateQueries({ queryKey: ['agents'] });
    qc.invalidateQueries({ queryKey: ['usage'] });
  };
  const update = async (payload: OrgCreate | OrgPatch) => {
    if (!editing) return;
    const o = await api.updateOrg(editing.org_id, payload);
    setEditing(null);
    refresh(o);
    notifications.show({ color: 'teal', title: 'Organization saved', message: o.name });
  };
  const suspend = (o: Org) =>
    modals.openConfirmModal({
      title: `Suspend ${o.name}?`,
      children: (
        <Text size="sm">
          Its agents get no new tokens, and every token they hold stops working at once. Its agents, credentials
          and APIs stay as they are; reactivating it lets its agents get new tokens.
        </Text>
      ),
      labels: { confirm: 'Suspend organization', cancel: 'Cancel' },
      confirmProps: { color: 'orange' },
      onConfirm: async () => {
        try {
          refresh(await api.suspendOrg(o.org_id));
          notifications.show({ color: 'orange', title: 'Organization suspended', message: o.name });
        } catch (err) {
          notifications.show({ color: 'red', title: 'Could not suspend the organization', message: errorMessage(err), autoClose: 10000 });
        }
      },
    });
  const reactivate = (o: Org) =>
    modals.openConfirmModal({
      title: `Reactivate ${o.name}?`,
      children: (
        <Text size="sm">Its agents may get new tokens again; tokens issued before the suspension stay dead.</Text>
      ),
      labels: { confirm: 'Reactivate organization', cancel: 'Cancel' },
      confirmProps: { color: 'teal' },
      onConfirm: async () => {
        try {
          refresh(await api.reactivateOrg(o.org_id));
          notifications.show({ color: 'teal', title: 'Organization reactivated', message: o.name });
        } catch (err) {
          notifications.show({ color: 'red', title: 'Could not reactivate the organization', message: errorMessage(err), autoClose: 10000 });
        }
      },
    });
  const viewAgents = (o: Org) => {
    scope.setSelected(o.org_id);
    navigate('/agents');
  };

  const items = list.data?.items ?? [];
  const filtered = !!(filters.q || filters.status);

  return (
    <>
      <PageHeader
        title="Organizations"
        description="Each organization is its own token issuer; its agents, APIs and audit events are its own"
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
            Create organization
          </Button>
        }
      />
      <Card withBorder radius="md" mb="md" padding="sm" component="search" aria-label="Filter organizations">
        <Group grow align="flex-end" wrap="wrap" preventGrowOverflow={false}>
          <TextInput
            label="Search"
            placeholder="Name contains…"
            leftSection={<IconSearch size={16} />}
            value={qInput}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setQInput(v);
              applyDebounced({ q: v.trim() });
            }}
            miw={200}
          />
          <Select
            label="Status"
            placeholder="Any status"
            data={ORG_STATUSES.map((s) => ({ value: s, label: s }))}
            value={filters.status || null}
            onChange={(v) => apply({ status: (v ?? '') as OrgStatus | '' })}
            clearable
            miw={160}
          />
        </Group>
      </Card>

      {list.isError && <ErrorAlert error={list.error} title="Could not load organizations" />}
      {list.isPending && <Loading label="Loading organizations" />}
      {list.isSuccess && items.length === 0 && (
        <Card withBorder radius="md" py="xl">
          <EmptyState
            icon={<IconBuilding size={32} />}
            title={filtered ? 'No organizations match these filters' : 'No organizations'}
            description={filtered ? 'Change or clear the filters.' : 'Create one for each team.'}
          />
        </Card>
      )}
      {items.length > 0 && (
        <Card withBorder radius="md" padding={0}>
          <Table.ScrollContainer minWidth={720}>
            <Table highlightOnHover verticalSpacing="sm" aria-label="Organizations" aria-busy={list.isFetching}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th w={120}>Status</Table.Th>
                  <Table.Th w={120} ta="right">
                    Max agents
                  </Table.Th>
                  <Table.Th w={150}>Created</Table.Th>
                  <Table.Th w={50}>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((o) => (
                  <Table.Tr key={o.org_id}>
                    <Table.Td>
                      <Text fw={500}>{o.name}</Text>
                      <Group gap={2} wrap="nowrap">
                        <Text size="xs" c="dimmed" ff="monospace">
                          {o.org_id}
                        </Text>
                        <CopyIcon value={o.org_id} label={`Copy the id of ${o.name}`} />
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <OrgStatusBadge status={o.status} />
                    </Table.Td>
                    <Table.Td ta="right">{formatNumber(o.max_agents)}</Table.Td>
                    <Table.Td>
                      <Text size="sm" title={o.created_at} style={{ whiteSpace: 'nowrap' }}>
                        {formatDateTime(o.created_at, false)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Menu position="bottom-end" withinPortal>
                        <Menu.Target>
                          <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${o.name}`}>
                            <IconDots size={16} />
                          </ActionIcon>
                        </Menu.Target>
                        <Menu.Dropdown>
                          <Menu.Item leftSection={<IconRobot size={14} />} onClick={() => viewAgents(o)}>
                            View its agents
                          </Menu.Item>
                          <Menu.Item leftSection={<IconEdit size={14} />} onClick={() => setEditing(o)}>
                            Edit
                          </Menu.Item>
                          {o.status === 'active' ? (
                            <Menu.Item color="orange" leftSection={<IconPlayerPause size={14} />} onClick={() => suspend(o)}>
                              Suspend
                            </Menu.Item>
                          ) : (
                            <Menu.Item leftSection={<IconPlayerPlay size={14} />} onClick={() => reactivate(o)}>
                              Reactivate
                            </Menu.Item>
                          )}
                        </Menu.Dropdown>
                      </Menu>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <CursorPagination pager={pager} nextCursor={list.data?.next_cursor} loading={list.isFetching} />

      <Modal opened={creating} onClose={() => setCreating(false)} title="Create organization" size="lg">
        <OrgForm initial={null} submitLabel="Create organization" onSubmit={create} onCancel={() => setCreating(false)} />
      </Modal>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={`Edit ${editing?.name ?? ''}`} size="lg">
        {editing && (
          <>
            {editing.org_id === ROOT_ORG_ID && (
              <Text size="sm" c="dimmed" mb="sm">
                The root organization holds the operators; it cannot be suspended.
              </Text>
            )}
            <OrgForm initial={editing} submitLabel="Save changes" onSubmit={update} onCancel={() => setEditing(null)} />
          </>
        )}
      </Modal>
      <SecretModal
        issued={created ? adminCredential(created) : null}
        title="Organization created"
        lostHint="if it is lost, issue a new credential to the organization's admin agent."
        onClose={() => setCreated(null)}
      >
        {created && (
          <Text size="sm">
            <b>{created.org.name}</b> is created, with its first admin agent (<Code>org-admin</Code>). Sign in with
            these to act as that organization: its tokens carry the organization's own issuer.
          </Text>
        )}
      </SecretModal>
    </>
  );
}
