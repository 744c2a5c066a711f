import { lazy, Suspense } from 'react';
import { Center, Loader, Text } from '@mantine/core';
import type { UsageDay } from '../api';

const TokensChart = lazy(() => import('./TokensChart'));

export function LazyTokensChart({ days, height = 260 }: { days: UsageDay[]; height?: number }) {
  const total = days.reduce((n, d) => n + d.tokens_issued, 0);
  if (total === 0) {
    return (
      <Center h={height}>
        <Text c="dimmed" size="sm">
          No tokens issued in the last 30 days.
        </Text>
      </Center>
    );
  }
  return (
    <figure style={{ margin: 0 }} aria-label={`Tokens issued per day: ${total} over ${days.length} days`}>
      <Suspense
        fallback={
          <Center h={height}>
            <Loader size="sm" aria-label="Loading chart" />
          </Center>
        }
      >
        <TokensChart days={days} height={height} />
      </Suspense>
    </figure>
  );
}
