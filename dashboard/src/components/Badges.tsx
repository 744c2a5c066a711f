import { Badge } from '@mantine/core';

const AGENT: Record<string, string> = { active: 'teal', suspended: 'yellow', decommissioned: 'gray' };
const CREDENTIAL: Record<string, string> = { active: 'teal', revoked: 'red', expired: 'gray' };
const KEY: Record<string, string> = { pending: 'blue', active: 'teal', retired: 'gray' };

export function AgentStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={AGENT[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}

export function CredentialStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={CREDENTIAL[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}

export function KeyStateBadge({ state }: { state: string }) {
  return (
    <Badge color={KEY[state] ?? 'gray'} variant="light">
      {state}
    </Badge>
  );
}

export function OutcomeBadge({ outcome }: { outcome: string }) {
  return (
    <Badge color={outcome === 'success' ? 'teal' : 'red'} variant="dot">
      {outcome}
    </Badge>
  );
}

const ORG: Record<string, string> = { active: 'teal', suspended: 'yellow' };

export function OrgStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={ORG[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}
