import { useState } from 'react';
import { ActionIcon, Alert, Anchor, Badge, Button, Card, Checkbox, Group, Select, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery } from '@tanstack/react-query';
import { IconEdit, IconInfoCircle, IconTrash } from '@tabler/icons-react';
import { Link } from 'react-router';
import { collectPages, type Agent, type Grant } from '../api';
import { useApi, useAuth } from '../auth/AuthContext';
import { useAgentActions } from '../hooks/useAgentActions';
import { addGrant, apiOfGrant, apisNotGranted, draftOf, removeGrant, sameGrants, setGrantScopes } from '../lib/grants';
import { ErrorAlert } from './ErrorAlert';
import { Loading } from './Loading';

/**
 * The agent's grants on its organization's APIs: which scopes of which API it may get
 * tokens carrying. Edited per API (pick an API, tick its scopes) and saved whole with
 * PATCH {"grants": [...]}, which needs apis:write besides agents:write.
 */
export function GrantsCard({ agent }: { agent: Agent }) {
  const api = useApi();
  const { hasScope } = useAuth();
  const actions = useAgentActions();
  const canEdit = hasScope('agents:write') && agent.status !== 'decommissioned';
  const [draft, setDraft] = useState<Grant[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const orgApis = useQuery({
    queryKey: ['apis', 'org', agent.org_id ?? null, 'all'],
    queryFn: ({ signal }) => collectPages((cursor) => api.listApis({ org_id: agent.org_id, limit: 200, cursor }, signal)),
    enabled: hasScope('apis:read'),
  });
  const apis = orgApis.data?.items ?? [];
  const grants = agent.grants ?? [];

  const start = () => {
    setError(null);
    setDraft(draftOf(grants));
  };
  const cancel = () => {
    setError(null);
    setDraft(null);
  };
  const save = async () => {
    if (!draft) return;
    if (sameGrants(draft, grants)) {
      setDraft(null);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const updated = await api.updateAgent(agent.agent_id, { grants: draft });
      actions.refresh(updated);
      setDraft(null);
      notifications.show({ color: 'teal', title: 'Grants saved', message: updated.name });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const addable = draft ? apisNotGranted(apis, draft) : [];

  return (
    <Card withBorder radius="md" component="section" aria-label="Grants">
      <Group justify="space-between" mb={4}>
        <Title order={3} size="h4">
          Grants
        </Title>
        {canEdit && !draft && (
          <Button size="xs" variant="default" leftSection={<IconEdit size={14} />} onClick={start}>
            Edit grants
          </Button>
        )}
      </Group>
      <Text size="sm" c="dimmed" mb="sm">
        Scopes of its organization's APIs this agent may get tokens for (with <code>resource</code> = the API's
        identifier). Its scopes of this server are its allowed scopes.
      </Text>
      {orgApis.isError && <ErrorAlert error={orgApis.error} title="Could not load the organization's APIs" />}

      {!draft &&
        (grants.length === 0 ? (
          <Text size="sm" c="dimmed">
            No grants.
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={420}>
            <Table verticalSpacing="xs" fz="sm" aria-label="Grants of the agent">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>API</Table.Th>
                  <Table.Th>Scopes</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {grants.map((g) => {
                  const target = apiOfGrant(apis, g);
                  return (
                    <Table.Tr key={g.audience}>
                      <Table.Td>
                        {target ? (
                          <Anchor component={Link} to={`/apis/${target.api_id}`} size="sm" fw={500}>
                            {target.name}
                          </Anchor>
                        ) : null}
                        <Text size="xs" ff="monospace" c={target ? 'dimmed' : undefined} style={{ wordBreak: 'break-all' }}>
                          {g.audience}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        {g.scopes.length ? (
                          <Group gap={4}>
                            {g.scopes.map((s) => (
                              <Badge key={s} variant="light" size="sm" tt="none">
                                {s}
                              </Badge>
                            ))}
                          </Group>
                        ) : (
                          <Text size="sm" c="dimmed">
                            none (tokens without a scope)
                          </Text>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ))}

      {draft && (
        <Stack gap="sm">
          {!hasScope('apis:write') && (
            <Alert color="yellow" variant="light" icon={<IconInfoCircle size={18} />}>
              Setting grants needs <code>apis:write</code> as well as <code>agents:write</code>; your token lacks it, so
              the server will refuse.
            </Alert>
          )}
          {orgApis.isPending && hasScope('apis:read') && <Loading label="Loading APIs" />}
          {draft.length === 0 && (
            <Text size="sm" c="dimmed">
              No grants: add one for an API below.
            </Text>
          )}
          {draft.map((g) => {
            const target = apiOfGrant(apis, g);
            const options = target?.scopes ?? [];
            return (
              <Card key={g.audience} withBorder radius="sm" padding="sm">
                <Group justify="space-between" align="flex-start" wrap="nowrap" mb={6}>
                  <div style={{ minWidth: 0 }}>
                    <Text size="sm" fw={500}>
                      {target?.name ?? 'Unknown API'}
                    </Text>
                    <Text size="xs" ff="monospace" c="dimmed" style={{ wordBreak: 'break-all' }}>
                      {g.audience}
                    </Text>
                  </div>
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    aria-label={`Remove the grant on ${target?.name ?? g.audience}`}
                    onClick={() => setDraft(removeGrant(draft, g.audience))}
                  >
                    <IconTrash size={16} />
                  </ActionIcon>
                </Group>
                {options.length === 0 ? (
                  <Text size="sm" c="dimmed">
                    This API defines no scopes: the grant gives tokens without a scope.
                  </Text>
                ) : (
                  <Checkbox.Group
                    aria-label={`Scopes of ${target?.name ?? g.audience}`}
                    value={g.scopes}
                    onChange={(v) => setDraft(setGrantScopes(draft, g.audience, v, target))}
                  >
                    <SimpleGrid cols={{ base: 1, sm: 2 }} spacing={6} verticalSpacing={6}>
                      {options.map((s) => (
                        <Checkbox key={s.value} value={s.value} label={s.value} description={s.description || undefined} />
                      ))}
                    </SimpleGrid>
                  </Checkbox.Group>
                )}
              </Card>
            );
          })}
          <Select
            label="Add a grant"
            placeholder={addable.length ? 'Pick an API' : 'Every API of the organization is granted'}
            data={addable.map((a) => ({ value: a.api_id, label: `${a.name} — ${a.identifier}` }))}
            value={null}
            onChange={(id) => {
              const picked = apis.find((a) => a.api_id === id);
              if (picked) setDraft(addGrant(draft, picked));
            }}
            disabled={addable.length === 0}
            searchable
            comboboxProps={{ withinPortal: true }}
          />
          <ErrorAlert error={error} title="Could not save the grants" />
          <Group justify="flex-end">
            <Button variant="default" onClick={cancel} disabled={busy}>
              Cancel
            </Button>
            <Button onClick={save} loading={busy}>
              Save grants
            </Button>
          </Group>
        </Stack>
      )}
    </Card>
  );
}
