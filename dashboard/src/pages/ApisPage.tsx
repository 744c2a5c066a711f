import { useState } from 'react';
import { Anchor, Badge, Button, Card, EmptyState, Group, Modal, Table, Text, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { IconApi, IconPlus } from '@tabler/icons-react';
import { Link, useNavigate } from 'react-router';
import type { Api, ApiCreate, ApiPatch } from '../api';
import { useApi, useAuth } from '../auth/AuthContext';
import { ApiForm } from '../components/ApiForm';
import { CursorPagination } from '../components/CursorPagination';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/Loading';
import { PageHeader } from '../components/PageHeader';
import { ScopeRequired } from '../components/ScopeRequired';
import { formatTtl } from '../lib/apiForm';
import { useCursorPager } from '../lib/cursorPager';
import { ALL_ORGS, defaultOrgForCreate, pickerOptions } from '../lib/orgs';
import { useOrgScope } from '../org/OrgScope';

const PAGE_SIZE = 50;

export function BuiltinBadge() {
  return (
    <Tooltip label="This server's own management API: read-only, listed in every organization">
      <Badge variant="light" color="gray" size="sm" tt="none">
        built-in
      </Badge>
    </Tooltip>
  );
}

export function ApisPage() {
  const api = useApi();
  const { hasScope } = useAuth();
  const canWrite = hasScope('apis:write');
  const qc = useQueryClient();
  const navigate = useNavigate();
  const scope = useOrgScope();
  const pager = useCursorPager();
  const [creating, setCreating] = useState(false);
  const showOrg = scope.operator && scope.selected === ALL_ORGS;
  const createIn = defaultOrgForCreate(scope.selected, scope.ownOrgId);

  const list = useQuery({
    queryKey: ['apis', scope.filter ?? null, pager.cursor],
    queryFn: ({ signal }) => api.listApis({ org_id: scope.filter, limit: PAGE_SIZE, cursor: pager.cursor }, signal),
    placeholderData: keepPreviousData,
    enabled: hasScope('apis:read'),
  });

  if (!hasScope('apis:read')) {
    return <ScopeRequired title="APIs" scope="apis:read" />;
  }

  const create = async (payload: ApiCreate | ApiPatch) => {
    const created = await api.createApi(payload as ApiCreate);
    qc.invalidateQueries({ queryKey: ['apis'] });
    qc.invalidateQueries({ queryKey: ['audit'] });
    qc.setQueryData(['api', created.api_id], created);
    setCreating(false);
    notifications.show({ color: 'teal', title: 'API created', message: created.name });
    navigate(`/apis/${created.api_id}`);
  };

  const items: Api[] = list.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="APIs"
        description={`The resource servers agents get tokens for${
          scope.operator ? (scope.filter ? `, in ${scope.orgName(scope.filter)}` : ', in every organization') : ''
        }; an agent's grants give it their scopes`}
        actions={
          canWrite && (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
              Create API
            </Button>
          )
        }
      />
      {list.isError && <ErrorAlert error={list.error} title="Could not load APIs" />}
      {list.isPending && <Loading label="Loading APIs" />}
      {list.isSuccess && items.length === 0 && (
        <Card withBorder radius="md" py="xl">
          <EmptyState icon={<IconApi size={32} />} title="No APIs yet" description="Register the first API your agents call." />
        </Card>
      )}
      {items.length > 0 && (
        <Card withBorder radius="md" padding={0}>
          <Table.ScrollContainer minWidth={showOrg ? 900 : 760}>
            <Table highlightOnHover verticalSpacing="sm" aria-label="APIs" aria-busy={list.isFetching}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Identifier</Table.Th>
                  {showOrg && <Table.Th>Organization</Table.Th>}
                  <Table.Th w={80}>Scopes</Table.Th>
                  <Table.Th w={170}>Token lifetime</Table.Th>
                  <Table.Th w={90}>DPoP</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((a) => (
                  <Table.Tr key={a.api_id}>
                    <Table.Td>
                      <Group gap={6} wrap="wrap">
                        <Anchor component={Link} to={`/apis/${a.api_id}`} fw={500}>
                          {a.name}
                        </Anchor>
                        {a.builtin && <BuiltinBadge />}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                        {a.identifier}
                      </Text>
                    </Table.Td>
                    {showOrg && (
                      <Table.Td>
                        <Text size="sm">{a.org_id ? scope.orgName(a.org_id) : 'every organization'}</Text>
                      </Table.Td>
                    )}
                    <Table.Td>
                      <Tooltip label={a.scopes.map((s) => s.value).join(', ') || 'none'} multiline maw={300}>
                        <Text size="sm">{a.scopes.length}</Text>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{a.token_ttl_seconds === null ? 'default' : formatTtl(a.token_ttl_seconds)}</Text>
                    </Table.Td>
                    <Table.Td>
                      {a.require_dpop ? (
                        <Badge color="orange" variant="light" size="sm">
                          required
                        </Badge>
                      ) : (
                        <Text size="sm" c="dimmed">
                          no
                        </Text>
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
      <Modal opened={creating} onClose={() => setCreating(false)} title="Create API" size="lg">
        <ApiForm
          initial={null}
          submitLabel="Create API"
          onSubmit={create}
          onCancel={() => setCreating(false)}
          orgOptions={scope.operator ? pickerOptions(scope.orgs, createIn) : undefined}
          defaultOrgId={createIn}
        />
      </Modal>
    </>
  );
}
