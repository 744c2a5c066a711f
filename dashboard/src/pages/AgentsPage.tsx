import { useState } from 'react';
import { ActionIcon, Anchor, Badge, Button, Card, EmptyState, Group, Menu, Modal, Select, Table, Text, TextInput, Tooltip, VisuallyHidden } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { IconDots, IconPlayerPause, IconPlayerPlay, IconPlus, IconRobot, IconSearch, IconTrash, IconEdit } from '@tabler/icons-react';
import { Link, useNavigate } from 'react-router';
import { AGENT_STATUSES, type Agent, type AgentCreate, type AgentStatus } from '../api';
import { useApi, useAuth } from '../auth/AuthContext';
import { AgentForm } from '../components/AgentForm';
import { AgentStatusBadge, DPoPBadge } from '../components/Badges';
import { CursorPagination } from '../components/CursorPagination';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/Loading';
import { PageHeader } from '../components/PageHeader';
import { useAgentActions } from '../hooks/useAgentActions';
import { useCursorPager } from '../lib/cursorPager';
import { formatDateTime } from '../lib/format';
import { ALL_ORGS, defaultOrgForCreate, pickerOptions } from '../lib/orgs';
import { useOrgScope } from '../org/OrgScope';

const PAGE_SIZE = 20;

interface Filters {
  q: string;
  status: AgentStatus | '';
  owner: string;
}

export function AgentsPage() {
  const api = useApi();
  const { hasScope } = useAuth();
  const canWrite = hasScope('agents:write');
  const qc = useQueryClient();
  const navigate = useNavigate();
  const pager = useCursorPager();
  const actions = useAgentActions();
  const scope = useOrgScope();
  const showOrg = scope.operator && scope.selected === ALL_ORGS;
  const createIn = defaultOrgForCreate(scope.selected, scope.ownOrgId);

  const [qInput, setQInput] = useState('');
  const [ownerInput, setOwnerInput] = useState('');
  const [filters, setFilters] = useState<Filters>({ q: '', status: '', owner: '' });
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Agent | null>(null);

  const apply = (next: Partial<Filters>) => {
    setFilters((f) => ({ ...f, ...next }));
    pager.reset();
  };
  const applyDebounced = useDebouncedCallback(apply, 300);

  const list = useQuery({
    queryKey: ['agents', scope.filter ?? null, filters, pager.cursor],
    queryFn: ({ signal }) =>
      api.listAgents({ ...filters, org_id: scope.filter, limit: PAGE_SIZE, cursor: pager.cursor }, signal),
    placeholderData: keepPreviousData,
  });

  const create = async (payload: Partial<AgentCreate>) => {
    const agent = await api.createAgent(payload as AgentCreate);
    qc.invalidateQueries({ queryKey: ['agents'] });
    qc.invalidateQueries({ queryKey: ['usage'] });
    qc.setQueryData(['agent', agent.agent_id], agent);
    setCreating(false);
    notifications.show({ color: 'teal', title: 'Agent created', message: agent.name });
    navigate(`/agents/${agent.agent_id}`);
  };

  const update = async (payload: Partial<AgentCreate>) => {
    if (!editing) return;
    const agent = await api.updateAgent(editing.agent_id, payload);
    actions.refresh(agent);
    setEditing(null);
    notifications.show({ color: 'teal', title: 'Agent saved', message: agent.name });
  };

  const filtered = !!(filters.q || filters.status || filters.owner);
  const items = list.data?.items ?? [];

  return (
    <>
      <PageHeader
        title="Agents"
        description={
          scope.operator
            ? scope.filter
              ? `Identities of the AI agents of ${scope.orgName(scope.filter)}`
              : 'Identities of the AI agents of every organization'
            : 'Identities of the AI agents that call your APIs'
        }
        actions={
          canWrite && (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
              Create agent
            </Button>
          )
        }
      />
      <Card withBorder radius="md" mb="md" padding="sm" component="search" aria-label="Filter agents">
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
            data={AGENT_STATUSES.map((s) => ({ value: s, label: s }))}
            value={filters.status || null}
            onChange={(v) => apply({ status: (v ?? '') as AgentStatus | '' })}
            clearable
            miw={160}
          />
          <TextInput
            label="Owner"
            placeholder="Exact owner"
            value={ownerInput}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setOwnerInput(v);
              applyDebounced({ owner: v.trim() });
            }}
            miw={180}
          />
        </Group>
      </Card>

      {list.isError && <ErrorAlert error={list.error} title="Could not load agents" />}
      {list.isPending && <Loading label="Loading agents" />}
      {list.isSuccess && items.length === 0 && (
        <Card withBorder radius="md" py="xl">
          <EmptyState
            icon={<IconRobot size={32} />}
            title={filtered ? 'No agents match these filters' : 'No agents yet'}
            description={filtered ? 'Change or clear the filters.' : 'Create the first agent to issue it credentials.'}
          />
        </Card>
      )}
      {items.length > 0 && (
        <Card withBorder radius="md" padding={0}>
          <Table.ScrollContainer minWidth={showOrg ? 900 : 760}>
            <Table highlightOnHover verticalSpacing="sm" aria-busy={list.isFetching}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  {showOrg && <Table.Th>Organization</Table.Th>}
                  <Table.Th w={170}>Status</Table.Th>
                  <Table.Th>Owner</Table.Th>
                  <Table.Th w={120}>Plan</Table.Th>
                  <Table.Th w={80}>Scopes</Table.Th>
                  <Table.Th w={150}>Created</Table.Th>
                  <Table.Th w={50}>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((a) => (
                  <Table.Tr key={a.agent_id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/agents/${a.agent_id}`} fw={500}>
                        {a.name}
                      </Anchor>
                      <Text size="xs" c="dimmed" ff="monospace" visibleFrom="sm">
                        {a.agent_id}
                      </Text>
                    </Table.Td>
                    {showOrg && (
                      <Table.Td>
                        <Text size="sm">{scope.orgName(a.org_id)}</Text>
                      </Table.Td>
                    )}
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <AgentStatusBadge status={a.status} />
                        {a.require_dpop && <DPoPBadge size="xs" />}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{a.owner || '—'}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="outline" color={a.plan === 'unlimited' ? 'violet' : 'gray'}>
                        {a.plan}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Tooltip label={a.allowed_scopes.join(', ') || 'none'} multiline maw={300}>
                        <Text size="sm">{a.allowed_scopes.length}</Text>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" title={a.created_at} style={{ whiteSpace: 'nowrap' }}>
                        {formatDateTime(a.created_at, false)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      {canWrite && a.status !== 'decommissioned' && (
                        <Menu position="bottom-end" withinPortal>
                          <Menu.Target>
                            <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${a.name}`}>
                              <IconDots size={16} />
                            </ActionIcon>
                          </Menu.Target>
                          <Menu.Dropdown>
                            <Menu.Item leftSection={<IconEdit size={14} />} onClick={() => setEditing(a)}>
                              Edit
                            </Menu.Item>
                            {a.status === 'active' ? (
                              <Menu.Item leftSection={<IconPlayerPause size={14} />} onClick={() => actions.suspend(a)}>
                                Suspend
                              </Menu.Item>
                            ) : (
                              <Menu.Item leftSection={<IconPlayerPlay size={14} />} onClick={() => actions.reactivate(a)}>
                                Reactivate
                              </Menu.Item>
                            )}
                            <Menu.Divider />
                            <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={() => actions.decommission(a)}>
                              Decommission
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
        </Card>
      )}
      <CursorPagination pager={pager} nextCursor={list.data?.next_cursor} loading={list.isFetching} />

      <Modal opened={creating} onClose={() => setCreating(false)} title="Create agent" size="lg">
        <AgentForm
          initial={null}
          submitLabel="Create agent"
          onSubmit={create}
          onCancel={() => setCreating(false)}
          orgOptions={scope.operator ? pickerOptions(scope.orgs, createIn) : undefined}
          defaultOrgId={createIn}
          delegatesSupported={items.some((a) => a.delegates !== undefined)}
        />
      </Modal>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={`Edit ${editing?.name ?? ''}`} size="lg">
        {editing && <AgentForm initial={editing} submitLabel="Save changes" onSubmit={update} onCancel={() => setEditing(null)} />}
      </Modal>
    </>
  );
}
