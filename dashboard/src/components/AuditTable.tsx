import { Fragment, useState } from 'react';
import { ActionIcon, Anchor, Code, Group, Stack, Table, Text, Tooltip, VisuallyHidden } from '@mantine/core';
import { IconChevronDown, IconChevronRight } from '@tabler/icons-react';
import { Link } from 'react-router';
import type { AuditEvent } from '../api';
import { delegationChains } from '../lib/auditChain';
import { formatDateTime, shortId } from '../lib/format';
import { OutcomeBadge } from './Badges';
import { InclusionCheck } from './InclusionCheck';

function Mono({ children, title }: { children: React.ReactNode; title?: string }) {
  return (
    <Text span ff="monospace" size="xs" title={title}>
      {children}
    </Text>
  );
}

/** An event's delegation chains (lib/auditChain), each agent id linking to its page. */
export function EventChains({ event }: { event: { action: string; details: unknown } }) {
  const chains = delegationChains(event);
  if (chains.length === 0) return null;
  return (
    <Stack gap={4} mb="xs">
      {chains.map((c) => (
        <Group key={c.label} gap={6} wrap="wrap" aria-label={c.label} role="group">
          <Text size="xs" fw={500}>
            {c.label}:
          </Text>
          {c.ids.map((id, i) => (
            <Fragment key={`${i}-${id}`}>
              {i > 0 && (
                <Text span size="xs" c="dimmed" aria-hidden>
                  →
                </Text>
              )}
              <Anchor component={Link} to={`/agents/${id}`} size="xs" ff="monospace" title={id}>
                {shortId(id)}
              </Anchor>
            </Fragment>
          ))}
        </Group>
      ))}
    </Stack>
  );
}

export function AuditTable({
  events,
  showAgent = true,
  orgName,
}: {
  events: AuditEvent[];
  showAgent?: boolean;
  /** Given, an Organization column shows each event's organization by this name. */
  orgName?: (orgId: string | null | undefined) => string;
}) {
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const cols = (showAgent ? 8 : 7) + (orgName ? 1 : 0);
  return (
    <Table.ScrollContainer minWidth={orgName ? 940 : 820}>
      <Table striped highlightOnHover verticalSpacing="xs" fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={36}>
              <VisuallyHidden>Details</VisuallyHidden>
            </Table.Th>
            <Table.Th>Time</Table.Th>
            <Table.Th>Action</Table.Th>
            <Table.Th>Outcome</Table.Th>
            {orgName && <Table.Th>Organization</Table.Th>}
            {showAgent && <Table.Th>Agent</Table.Th>}
            <Table.Th>Actor</Table.Th>
            <Table.Th>Target</Table.Th>
            <Table.Th>IP</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {events.map((e) => {
            const isOpen = !!open[e.event_id];
            return (
              <Fragment key={e.event_id}>
                <Table.Tr>
                  <Table.Td>
                    <Tooltip label={isOpen ? 'Hide details' : 'Show details'}>
                      <ActionIcon
                        variant="subtle"
                        color="gray"
                        size="sm"
                        aria-expanded={isOpen}
                        aria-label={`${isOpen ? 'Hide' : 'Show'} details of ${e.action} at ${formatDateTime(e.occurred_at)}`}
                        onClick={() => setOpen((o) => ({ ...o, [e.event_id]: !o[e.event_id] }))}
                      >
                        {isOpen ? <IconChevronDown size={14} /> : <IconChevronRight size={14} />}
                      </ActionIcon>
                    </Tooltip>
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(e.occurred_at)}</Table.Td>
                  <Table.Td>
                    <Mono>{e.action}</Mono>
                  </Table.Td>
                  <Table.Td>
                    <OutcomeBadge outcome={e.outcome} />
                  </Table.Td>
                  {orgName && (
                    <Table.Td>
                      <Text size="xs" title={e.org_id ?? undefined}>
                        {orgName(e.org_id)}
                      </Text>
                    </Table.Td>
                  )}
                  {showAgent && (
                    <Table.Td>
                      {e.agent_id ? (
                        <Anchor component={Link} to={`/agents/${e.agent_id}`} size="xs" ff="monospace" title={e.agent_id}>
                          {shortId(e.agent_id)}
                        </Anchor>
                      ) : (
                        '—'
                      )}
                    </Table.Td>
                  )}
                  <Table.Td>
                    <Mono title={e.actor_id || undefined}>{shortId(e.actor_id)}</Mono>
                  </Table.Td>
                  <Table.Td>
                    <Mono title={e.target_id || undefined}>
                      {e.target_type ? `${e.target_type}:${shortId(e.target_id)}` : '—'}
                    </Mono>
                  </Table.Td>
                  <Table.Td>
                    <Mono>{e.ip || '—'}</Mono>
                  </Table.Td>
                </Table.Tr>
                {isOpen && (
                  <Table.Tr>
                    <Table.Td colSpan={cols}>
                      <EventChains event={e} />
                      <Code block>
                        {JSON.stringify(
                          {
                            event_id: e.event_id,
                            seq: e.seq,
                            occurred_at: e.occurred_at,
                            org_id: e.org_id,
                            org_seq: e.org_seq ?? null,
                            actor_id: e.actor_id,
                            agent_id: e.agent_id,
                            target_type: e.target_type,
                            target_id: e.target_id,
                            request_id: e.request_id,
                            user_agent: e.user_agent,
                            details: e.details,
                          },
                          null,
                          2,
                        )}
                      </Code>
                      {e.hash && <InclusionCheck event={e} />}
                    </Table.Td>
                  </Table.Tr>
                )}
              </Fragment>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
