import { useState } from 'react';
import { Alert, Autocomplete, Button, Card, EmptyState, Group, Select, SimpleGrid, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { IconDownload, IconFilter, IconListDetails, IconRefresh, IconShieldCheck, IconShieldX } from '@tabler/icons-react';
import { useSearchParams } from 'react-router';
import { AUDIT_ACTIONS, errorMessage, saveBlob, type AuditFilters } from '../api';
import { useApi } from '../auth/AuthContext';
import { AuditTable } from '../components/AuditTable';
import { CheckpointPanel } from '../components/CheckpointPanel';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/Loading';
import { PageHeader } from '../components/PageHeader';
import { formatNumber, localInputToRfc3339 } from '../lib/format';
import { ALL_ORGS } from '../lib/orgs';
import { useOrgScope } from '../org/OrgScope';

const PAGE_SIZE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 3339 → value of a datetime-local input (local time). */
function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const off = d.getTimezoneOffset() * 60000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}

function filtersFromParams(p: URLSearchParams): AuditFilters {
  const outcome = p.get('outcome');
  return {
    agent_id: p.get('agent_id') ?? undefined,
    action: p.get('action') ?? undefined,
    outcome: outcome === 'success' || outcome === 'failure' ? outcome : undefined,
    from: p.get('from') ?? undefined,
    to: p.get('to') ?? undefined,
  };
}

function VerifyPanel() {
  const api = useApi();
  const verify = useQuery({
    queryKey: ['audit-verify'],
    queryFn: ({ signal }) => api.verifyAudit(signal),
    retry: false,
    staleTime: 60000,
  });
  if (verify.isSuccess && verify.data === null) return null; // endpoint not offered
  const recheck = (
    <Button size="compact-sm" variant="subtle" leftSection={<IconRefresh size={14} />} onClick={() => verify.refetch()} loading={verify.isFetching}>
      Check again
    </Button>
  );
  if (verify.isPending) {
    return (
      <Alert variant="light" color="gray" title="Verifying the audit chain…" mb="md" role="status">
        <Text size="sm">Checking the hash chain of the audit log.</Text>
      </Alert>
    );
  }
  if (verify.isError) {
    return (
      <Alert variant="light" color="gray" title="Audit chain not verified" mb="md">
        <Group justify="space-between">
          <Text size="sm">{errorMessage(verify.error)}</Text>
          {recheck}
        </Group>
      </Alert>
    );
  }
  const r = verify.data!;
  return r.ok ? (
    <Alert variant="light" color="teal" icon={<IconShieldCheck size={18} />} title="Audit chain intact" mb="md" role="status">
      <Group justify="space-between">
        <Text size="sm">{formatNumber(r.checked)} events checked; none altered, missing or reordered.</Text>
        {recheck}
      </Group>
    </Alert>
  ) : (
    <Alert variant="filled" color="red" icon={<IconShieldX size={18} />} title="Audit chain broken" mb="md" role="alert">
      <Group justify="space-between" align="flex-start">
        <Text size="sm">
          {r.reason || 'The hash chain does not match.'} First bad event:{' '}
          <span style={{ fontFamily: 'var(--mantine-font-family-monospace)' }}>{r.first_bad_event_id || 'unknown'}</span>{' '}
          ({formatNumber(r.checked)} checked)
        </Text>
        {recheck}
      </Group>
    </Alert>
  );
}

export function AuditPage() {
  const api = useApi();
  const scope = useOrgScope();
  const [params, setParams] = useSearchParams();
  // The organization comes from the switcher (an operator's choice), not from the form.
  const filters: AuditFilters = { ...filtersFromParams(params), org_id: scope.filter };
  const [draft, setDraft] = useState(() => ({
    agent_id: filters.agent_id ?? '',
    action: filters.action ?? '',
    outcome: filters.outcome ?? '',
    from: toLocalInput(filters.from ?? null),
    to: toLocalInput(filters.to ?? null),
  }));
  const [exporting, setExporting] = useState(false);

  const agentIdError = draft.agent_id && !UUID.test(draft.agent_id.trim()) ? 'An agent id is a UUID' : undefined;
  const rangeError =
    draft.from && draft.to && new Date(draft.from).getTime() > new Date(draft.to).getTime() ? '"To" is before "from"' : undefined;

  const events = useInfiniteQuery({
    queryKey: ['audit', 'list', filters],
    queryFn: ({ pageParam, signal }) => api.listAudit({ ...filters, limit: PAGE_SIZE, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

  const apply = (e?: React.FormEvent) => {
    e?.preventDefault();
    if (agentIdError || rangeError) return;
    const next = new URLSearchParams();
    if (draft.agent_id.trim()) next.set('agent_id', draft.agent_id.trim());
    if (draft.action.trim()) next.set('action', draft.action.trim());
    if (draft.outcome) next.set('outcome', draft.outcome);
    const from = localInputToRfc3339(draft.from);
    const to = localInputToRfc3339(draft.to);
    if (from) next.set('from', from);
    if (to) next.set('to', to);
    setParams(next);
  };
  const clear = () => {
    setDraft({ agent_id: '', action: '', outcome: '', from: '', to: '' });
    setParams(new URLSearchParams());
  };

  const doExport = async () => {
    setExporting(true);
    try {
      const { blob, filename } = await api.exportAudit(filters);
      saveBlob(blob, filename);
      notifications.show({ color: 'teal', title: 'Export ready', message: filename });
    } catch (err) {
      notifications.show({ color: 'red', title: 'Export failed', message: errorMessage(err) });
    } finally {
      setExporting(false);
    }
  };

  const items = events.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = Object.entries(filters).some(([k, v]) => k !== 'org_id' && !!v);

  return (
    <>
      <PageHeader
        title="Audit log"
        description={`Every action on an identity${
          scope.operator ? (scope.filter ? ` in ${scope.orgName(scope.filter)}` : ' in every organization') : ''
        }, newest first; the log is append-only and hash-chained`}
        actions={
          <Button variant="default" leftSection={<IconDownload size={16} />} onClick={doExport} loading={exporting}>
            Export NDJSON
          </Button>
        }
      />
      {/* Checking the chain reads every organization's events: it needs orgs:admin. */}
      {scope.operator && <VerifyPanel />}
      <CheckpointPanel />
      <Card withBorder radius="md" mb="md" padding="sm">
        <form onSubmit={apply} aria-label="Filter audit events">
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 5 }} spacing="sm">
            <TextInput
              label="Agent ID"
              placeholder="UUID"
              value={draft.agent_id}
              onChange={(e) => setDraft({ ...draft, agent_id: e.currentTarget.value })}
              error={agentIdError}
              spellCheck={false}
            />
            <Autocomplete
              label="Action"
              placeholder="Any action"
              data={[...AUDIT_ACTIONS]}
              value={draft.action}
              onChange={(v) => setDraft({ ...draft, action: v })}
              clearable
            />
            <Select
              label="Outcome"
              placeholder="Any outcome"
              data={[
                { value: 'success', label: 'success' },
                { value: 'failure', label: 'failure' },
              ]}
              value={draft.outcome || null}
              onChange={(v) => setDraft({ ...draft, outcome: (v ?? '') as '' | 'success' | 'failure' })}
              clearable
            />
            <TextInput
              type="datetime-local"
              label="From"
              value={draft.from}
              onChange={(e) => setDraft({ ...draft, from: e.currentTarget.value })}
            />
            <TextInput
              type="datetime-local"
              label="To"
              value={draft.to}
              onChange={(e) => setDraft({ ...draft, to: e.currentTarget.value })}
              error={rangeError}
            />
          </SimpleGrid>
          <Group justify="flex-end" mt="sm" gap="xs">
            <Button variant="subtle" color="gray" onClick={clear}>
              Clear
            </Button>
            <Button type="submit" leftSection={<IconFilter size={16} />}>
              Apply filters
            </Button>
          </Group>
        </form>
      </Card>

      {events.isPending && <Loading label="Loading audit events" />}
      {events.isError && <ErrorAlert error={events.error} title="Could not load the audit log" />}
      {events.isSuccess && items.length === 0 && (
        <Card withBorder radius="md" py="xl">
          <EmptyState
            icon={<IconListDetails size={32} />}
            title={filtered ? 'No events match these filters' : 'No events yet'}
            description={filtered ? 'Widen the time range or clear the filters.' : 'Events appear as agents are created and tokens issued.'}
          />
        </Card>
      )}
      {items.length > 0 && (
        <Card withBorder radius="md" padding={0}>
          <AuditTable events={items} orgName={scope.operator && scope.selected === ALL_ORGS ? scope.orgName : undefined} />
        </Card>
      )}
      {events.hasNextPage && (
        <Group justify="center" mt="md">
          <Button variant="default" onClick={() => events.fetchNextPage()} loading={events.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
      {items.length > 0 && !events.hasNextPage && (
        <Text ta="center" c="dimmed" size="xs" mt="md">
          {items.length} event{items.length === 1 ? '' : 's'} — end of the log for these filters
        </Text>
      )}
    </>
  );
}
