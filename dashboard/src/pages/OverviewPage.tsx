import { Card, Grid, Group, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { AGENT_STATUSES, type UsageMonth } from '../api';
import { useApi } from '../auth/AuthContext';
import { ErrorAlert } from '../components/ErrorAlert';
import { LazyTokensChart } from '../components/LazyTokensChart';
import { Loading } from '../components/Loading';
import { PageHeader } from '../components/PageHeader';
import { currentMonth, formatNumber } from '../lib/format';
import { useOrgScope } from '../org/OrgScope';

const STATUS_COLORS: Record<string, string> = { active: 'teal', suspended: 'yellow', decommissioned: 'gray' };

function Stat({ label, value, color, hint }: { label: string; value: React.ReactNode; color?: string; hint?: React.ReactNode }) {
  return (
    <Card withBorder radius="md" padding="md">
      <Text size="xs" tt="uppercase" fw={700} c="dimmed">
        {label}
      </Text>
      <Text fz={28} fw={700} c={color} lh={1.3}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}

export function QuotaBar({ month }: { month: UsageMonth | undefined }) {
  if (!month) return <Text c="dimmed" size="sm">No usage recorded this month.</Text>;
  if (month.limit === null || month.limit === undefined) {
    return (
      <Text size="sm" c="dimmed">
        {formatNumber(month.tokens_issued)} tokens issued; no monthly limit applies.
      </Text>
    );
  }
  const pct = month.limit > 0 ? Math.min(100, (month.tokens_issued / month.limit) * 100) : 100;
  const color = pct >= 90 ? 'red' : pct >= 75 ? 'orange' : 'indigo';
  return (
    <Stack gap={6}>
      <Group justify="space-between">
        <Text size="sm">
          {formatNumber(month.tokens_issued)} of {formatNumber(month.limit)} tokens
        </Text>
        <Text size="sm" c="dimmed">
          {formatNumber(month.remaining)} remaining
        </Text>
      </Group>
      <Progress value={pct} color={color} size="lg" radius="xl" aria-label={`Quota used: ${pct.toFixed(0)}%`} />
    </Stack>
  );
}

export function OverviewPage() {
  const api = useApi();
  const scope = useOrgScope();
  const usage = useQuery({
    queryKey: ['usage', 'overview', scope.filter ?? null],
    queryFn: ({ signal }) => api.usage(signal, scope.filter),
    refetchInterval: 60000,
  });

  const where = scope.operator
    ? scope.filter
      ? ` of ${scope.orgName(scope.filter)}`
      : ' of every organization'
    : scope.ownOrg
      ? ` of ${scope.ownOrg.name}`
      : '';
  const header = <PageHeader title="Overview" description={`Agents, tokens and quota at a glance${where}`} />;
  if (usage.isPending) return (<>{header}<Loading /></>);
  if (usage.isError) return (<>{header}<ErrorAlert error={usage.error} title="Could not load usage" /></>);

  const u = usage.data;
  // Older servers may not report agents by status: show a dash rather than a wrong zero.
  const byStatus: Partial<Record<string, number>> = u.agents_by_status ?? {};
  const known = u.agents_by_status != null;
  const thisMonthKey = currentMonth();
  const thisMonth = u.months.find((m) => m.month === thisMonthKey) ?? u.months[0];
  const totalAgents = AGENT_STATUSES.reduce((n, s) => n + (byStatus[s] ?? 0), 0);

  return (
    <>
      {header}
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} mb="lg">
        {AGENT_STATUSES.map((s) => (
          <Stat
            key={s}
            label={`${s} agents`}
            value={known ? formatNumber(byStatus[s] ?? 0) : '—'}
            color={STATUS_COLORS[s]}
            hint={s === 'active' && known ? `${formatNumber(totalAgents)} in total` : undefined}
          />
        ))}
        <Stat
          label="Tokens this month"
          value={formatNumber(thisMonth?.month === thisMonthKey ? thisMonth.tokens_issued : 0)}
          hint={thisMonthKey}
        />
      </SimpleGrid>
      <Grid mb="lg">
        <Grid.Col span={{ base: 12, lg: 8 }}>
        <Card withBorder radius="md" h="100%">
          <Title order={3} size="h5" mb="sm">
            Tokens issued per day (last 30 days)
          </Title>
          <LazyTokensChart days={u.days} />
        </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
        <Card withBorder radius="md" h="100%">
          <Title order={3} size="h5" mb="sm">
            Quota use, {thisMonthKey}
          </Title>
          <QuotaBar month={thisMonth?.month === thisMonthKey ? thisMonth : undefined} />
          <Title order={4} size="h6" mt="lg" mb="xs">
            By month
          </Title>
          {u.months.length === 0 ? (
            <Text size="sm" c="dimmed">
              No months recorded yet.
            </Text>
          ) : (
            <Table fz="sm" verticalSpacing={4}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Month</Table.Th>
                  <Table.Th ta="right">Tokens</Table.Th>
                  <Table.Th ta="right">Limit</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {u.months.slice(0, 6).map((m) => (
                  <Table.Tr key={m.month}>
                    <Table.Td>{m.month}</Table.Td>
                    <Table.Td ta="right">{formatNumber(m.tokens_issued)}</Table.Td>
                    <Table.Td ta="right">{m.limit === null ? '∞' : formatNumber(m.limit)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Card>
        </Grid.Col>
      </Grid>
    </>
  );
}
