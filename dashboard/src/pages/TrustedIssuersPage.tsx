import { useState } from 'react';
import { ActionIcon, Anchor, Button, Card, EmptyState, Menu, Modal, Table, Text, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { IconDots, IconEye, IconPlus, IconShieldCheck, IconTrash } from '@tabler/icons-react';
import { Link, useNavigate } from 'react-router';
import type { TrustedIssuer, TrustedIssuerCreate } from '../api';
import { useApi, useAuth } from '../auth/AuthContext';
import { CursorPagination } from '../components/CursorPagination';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/Loading';
import { PageHeader } from '../components/PageHeader';
import { ScopeRequired } from '../components/ScopeRequired';
import { TrustedIssuerForm } from '../components/TrustedIssuerForm';
import { useDeleteTrustedIssuer } from '../hooks/useDeleteTrustedIssuer';
import { useCursorPager } from '../lib/cursorPager';
import { formatDateTime } from '../lib/format';
import { ALL_ORGS, defaultOrgForCreate, pickerOptions } from '../lib/orgs';
import { useOrgScope } from '../org/OrgScope';

const PAGE_SIZE = 50;

/** Where a trusted issuer's keys come from, in a few words. */
export function keySourceText(ti: TrustedIssuer): string {
  if (ti.jwks_uri) return ti.jwks_uri;
  const n = ti.jwks?.keys.length ?? 0;
  return `${n} ${n === 1 ? 'key' : 'keys'} given by value`;
}

export function TrustedIssuersPage() {
  const api = useApi();
  const { hasScope } = useAuth();
  const canRead = hasScope('credentials:read');
  const canWrite = hasScope('credentials:write');
  const qc = useQueryClient();
  const navigate = useNavigate();
  const scope = useOrgScope();
  const pager = useCursorPager();
  const remove = useDeleteTrustedIssuer();
  const [creating, setCreating] = useState(false);
  const showOrg = scope.operator && scope.selected === ALL_ORGS;
  const createIn = defaultOrgForCreate(scope.selected, scope.ownOrgId);

  const list = useQuery({
    queryKey: ['trusted-issuers', scope.filter ?? null, pager.cursor],
    queryFn: ({ signal }) => api.listTrustedIssuers({ org_id: scope.filter, limit: PAGE_SIZE, cursor: pager.cursor }, signal),
    placeholderData: keepPreviousData,
    enabled: canRead,
  });

  if (!canRead) {
    return <ScopeRequired title="Trusted issuers" scope="credentials:read" />;
  }

  const create = async (body: TrustedIssuerCreate) => {
    const made = await api.createTrustedIssuer(body);
    qc.invalidateQueries({ queryKey: ['trusted-issuers'] });
    qc.invalidateQueries({ queryKey: ['audit'] });
    qc.setQueryData(['trusted-issuer', made.trusted_issuer_id], made);
    setCreating(false);
    notifications.show({ color: 'teal', title: 'Trusted issuer registered', message: made.issuer });
    navigate(`/trusted-issuers/${made.trusted_issuer_id}`);
  };

  const items = list.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="Trusted issuers"
        description={`External token issuers whose tokens the agents' federated credentials accept (workload identity)${
          scope.operator ? (scope.filter ? `, of ${scope.orgName(scope.filter)}` : ', of every organization') : ''
        }`}
        actions={
          canWrite && (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
              Register issuer
            </Button>
          )
        }
      />
      {list.isError && <ErrorAlert error={list.error} title="Could not load the trusted issuers" />}
      {list.isPending && <Loading label="Loading trusted issuers" />}
      {list.isSuccess && items.length === 0 && (
        <Card withBorder radius="md" py="xl">
          <EmptyState
            icon={<IconShieldCheck size={32} />}
            title="No trusted issuers yet"
            description="Register a Kubernetes cluster's, a SPIFFE trust domain's or a CI system's issuer to give agents federated credentials."
          />
        </Card>
      )}
      {items.length > 0 && (
        <Card withBorder radius="md" padding={0}>
          <Table.ScrollContainer minWidth={showOrg ? 860 : 700}>
            <Table highlightOnHover verticalSpacing="sm" aria-label="Trusted issuers" aria-busy={list.isFetching}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Issuer</Table.Th>
                  {showOrg && <Table.Th>Organization</Table.Th>}
                  <Table.Th>Keys</Table.Th>
                  <Table.Th w={150}>Registered</Table.Th>
                  <Table.Th w={50}>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((ti) => (
                  <Table.Tr key={ti.trusted_issuer_id}>
                    <Table.Td style={{ wordBreak: 'break-all' }}>
                      <Anchor component={Link} to={`/trusted-issuers/${ti.trusted_issuer_id}`} fw={500} ff="monospace" size="sm">
                        {ti.issuer}
                      </Anchor>
                    </Table.Td>
                    {showOrg && (
                      <Table.Td>
                        <Text size="sm">{scope.orgName(ti.org_id)}</Text>
                      </Table.Td>
                    )}
                    <Table.Td style={{ wordBreak: 'break-all' }}>
                      <Text size="sm" ff={ti.jwks_uri ? 'monospace' : undefined} c={ti.jwks_uri ? undefined : 'dimmed'}>
                        {keySourceText(ti)}
                      </Text>
                    </Table.Td>
                    <Table.Td title={ti.created_at}>
                      <Text size="sm">{formatDateTime(ti.created_at, false)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Menu position="bottom-end">
                        <Menu.Target>
                          <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${ti.issuer}`}>
                            <IconDots size={16} />
                          </ActionIcon>
                        </Menu.Target>
                        <Menu.Dropdown>
                          <Menu.Item leftSection={<IconEye size={14} />} onClick={() => navigate(`/trusted-issuers/${ti.trusted_issuer_id}`)}>
                            View
                          </Menu.Item>
                          {canWrite && (
                            <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={() => remove(ti)}>
                              Delete
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
          <CursorPagination pager={pager} nextCursor={list.data?.next_cursor} loading={list.isFetching} />
        </Card>
      )}
      <Modal opened={creating} onClose={() => setCreating(false)} title="Register trusted issuer" size="lg">
        <TrustedIssuerForm
          onSubmit={create}
          onCancel={() => setCreating(false)}
          orgOptions={scope.operator ? pickerOptions(scope.orgs, createIn) : undefined}
          defaultOrgId={createIn}
        />
      </Modal>
    </>
  );
}
