import { useState } from 'react';
import { ActionIcon, Anchor, Button, Group, Input, Select, Stack, Text, TextInput, Tooltip } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconPlus, IconX } from '@tabler/icons-react';
import { Link } from 'react-router';
import { collectPages, type Agent } from '../api';
import { useApi, useAuth } from '../auth/AuthContext';
import { addDelegate, delegateError, removeDelegate } from '../lib/delegates';
import { useOrgScope } from '../org/OrgScope';

/**
 * The agents of an organization (up to 1,000), to name delegates and to pick them. An
 * operator names the organization; anyone else lists its own.
 */
export function useOrgAgents(orgId: string | undefined) {
  const api = useApi();
  const { hasScope } = useAuth();
  const scope = useOrgScope();
  const org = scope.operator ? orgId : undefined;
  return useQuery({
    queryKey: ['agents', 'all-of-org', org ?? null],
    queryFn: ({ signal }) => collectPages((cursor) => api.listAgents({ org_id: org, limit: 200, cursor }, signal), 5),
    enabled: hasScope('agents:read'),
    staleTime: 30_000,
  });
}

function agentLabel(a: Agent): string {
  return a.status === 'active' ? a.name : `${a.name} (${a.status})`;
}

/** The delegates of an agent, by name where known, each a link to its page. */
export function DelegatesList({ delegates, orgId }: { delegates: string[]; orgId: string | undefined }) {
  const agents = useOrgAgents(orgId);
  if (delegates.length === 0) return <>none</>;
  const byId = new Map((agents.data?.items ?? []).map((a) => [a.agent_id, a]));
  return (
    <Stack gap={0} aria-label="Delegates">
      {delegates.map((id) => {
        const a = byId.get(id);
        return (
          <Text key={id} size="sm">
            <Anchor component={Link} to={`/agents/${id}`} inherit>
              {a ? agentLabel(a) : id}
            </Anchor>
            {a && (
              <Text span size="xs" c="dimmed" ff="monospace" ml={6}>
                {id.slice(0, 8)}…
              </Text>
            )}
          </Text>
        );
      })}
    </Stack>
  );
}

/**
 * Edits an agent's delegates: the agents of its organization that may act for it (token
 * exchange, SPEC §13). Add by picking one of the organization's agents or by pasting an
 * agent id; remove each. The server judges the list (same organization, no managing up).
 */
export function DelegatesEditor({
  value,
  onChange,
  selfId,
  orgId,
  error,
}: {
  value: string[];
  onChange: (v: string[]) => void;
  /** The agent being edited (it cannot list itself); undefined on create. */
  selfId: string | undefined;
  orgId: string | undefined;
  error?: React.ReactNode;
}) {
  const agents = useOrgAgents(orgId);
  const [byId, setById] = useState('');
  const [idError, setIdError] = useState<string | null>(null);
  const known = new Map((agents.data?.items ?? []).map((a) => [a.agent_id, a]));
  const choices = (agents.data?.items ?? [])
    .filter((a) => a.agent_id !== selfId && !value.includes(a.agent_id) && a.status !== 'decommissioned')
    .map((a) => ({ value: a.agent_id, label: agentLabel(a) }));

  const addById = () => {
    const err = delegateError(byId, selfId, value);
    setIdError(err);
    if (err) return;
    onChange(addDelegate(value, byId));
    setById('');
  };

  return (
    <Input.Wrapper
      label="Delegates"
      description="Agents of this organization that may act for this agent (token exchange)"
      error={error}
    >
      <Stack gap={6} mt={6}>
        {value.length === 0 && (
          <Text size="sm" c="dimmed">
            No delegates: no agent may act for this one.
          </Text>
        )}
        {value.map((id) => {
          const a = known.get(id);
          return (
            <Group key={id} gap="xs" wrap="nowrap" justify="space-between" role="group" aria-label={`Delegate ${a?.name ?? id}`}>
              <div style={{ minWidth: 0 }}>
                <Text size="sm" truncate>
                  {a ? agentLabel(a) : 'agent'}
                </Text>
                <Text size="xs" c="dimmed" ff="monospace" truncate>
                  {id}
                </Text>
              </div>
              <Tooltip label="Remove">
                <ActionIcon variant="subtle" color="red" aria-label={`Remove delegate ${a?.name ?? id}`} onClick={() => onChange(removeDelegate(value, id))}>
                  <IconX size={16} />
                </ActionIcon>
              </Tooltip>
            </Group>
          );
        })}
        <Select
          aria-label="Add a delegate"
          placeholder={agents.isPending ? 'Loading agents…' : choices.length ? 'Pick an agent of this organization' : 'No other agent to pick'}
          data={choices}
          value={null}
          onChange={(v) => v && onChange(addDelegate(value, v))}
          searchable
          disabled={choices.length === 0}
          comboboxProps={{ withinPortal: true }}
        />
        <Group gap="xs" align="flex-start" wrap="nowrap">
          <TextInput
            aria-label="Delegate agent id"
            placeholder="…or paste an agent id"
            value={byId}
            onChange={(e) => {
              setById(e.currentTarget.value);
              setIdError(null);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addById();
              }
            }}
            error={idError}
            style={{ flex: 1 }}
            spellCheck={false}
            autoComplete="off"
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          />
          <Button variant="default" leftSection={<IconPlus size={14} />} onClick={addById}>
            Add
          </Button>
        </Group>
      </Stack>
    </Input.Wrapper>
  );
}
