import { Anchor, EmptyState, Text } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import { IconArrowLeft } from '@tabler/icons-react';
import { Link } from 'react-router';
import { ApiError } from '../api';
import { ErrorAlert } from './ErrorAlert';
import { Loading } from './Loading';

/** The "← Agents" link at the top of a detail page. */
export function BackLink({ to, children }: { to: string; children: React.ReactNode }) {
  return (
    <Anchor component={Link} to={to} size="sm" mb="sm" display="inline-flex" style={{ alignItems: 'center', gap: 4 }}>
      <IconArrowLeft size={14} /> {children}
    </Anchor>
  );
}

/** One labelled value of a detail page's summary card. */
export function Field({ label, children, breakAll }: { label: string; children: React.ReactNode; breakAll?: boolean }) {
  return (
    <div>
      <Text size="xs" tt="uppercase" fw={700} c="dimmed">
        {label}
      </Text>
      <div style={{ fontSize: 'var(--mantine-font-size-sm)', wordBreak: breakAll ? 'break-all' : 'break-word' }}>{children}</div>
    </div>
  );
}

/**
 * What a detail page shows until its object is loaded: the back link and a loader, then a
 * "not found" (404) or the error. Used as `if (!q.isSuccess) return <DetailState … />`.
 */
export function DetailState({
  query,
  back,
  noun,
  notFound,
}: {
  query: UseQueryResult<unknown>;
  back: React.ReactNode;
  /** "agent", "API", "trusted issuer": in "Loading …", "… not found", "Could not load the …". */
  noun: string;
  /** The 404's description. */
  notFound: string;
}) {
  const is404 = query.isError && query.error instanceof ApiError && query.error.status === 404;
  return (
    <>
      {back}
      {query.isPending && <Loading label={`Loading ${noun}`} />}
      {is404 && <EmptyState title={`${noun.charAt(0).toUpperCase()}${noun.slice(1)} not found`} description={notFound} />}
      {query.isError && !is404 && <ErrorAlert error={query.error} title={`Could not load the ${noun}`} />}
    </>
  );
}
