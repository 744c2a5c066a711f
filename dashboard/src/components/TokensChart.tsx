import '@mantine/charts/styles.css';
import { BarChart } from '@mantine/charts';
import type { UsageDay } from '../api';

/** Tokens issued per day, oldest first. Loaded lazily (recharts is the biggest dependency). */
export default function TokensChart({ days, height = 260 }: { days: UsageDay[]; height?: number }) {
  const data = [...days]
    .sort((a, b) => a.date.localeCompare(b.date))
    .map((d) => ({ date: d.date.slice(5), tokens: d.tokens_issued }));
  return (
    <BarChart
      h={height}
      data={data}
      dataKey="date"
      series={[{ name: 'tokens', label: 'Tokens issued', color: 'indigo.6' }]}
      tickLine="y"
      gridAxis="x"
      withTooltip
      tooltipAnimationDuration={0}
      barProps={{ isAnimationActive: false }}
      yAxisProps={{ allowDecimals: false }}
    />
  );
}
