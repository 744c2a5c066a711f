import { Alert } from '@mantine/core';
import { IconInfoCircle } from '@tabler/icons-react';
import { PageHeader } from './PageHeader';

/** A page the caller's token has no scope for: its title and the scope it needs. */
export function ScopeRequired({ title, scope }: { title: string; scope: string }) {
  return (
    <>
      <PageHeader title={title} />
      <Alert color="yellow" icon={<IconInfoCircle size={18} />}>
        This page needs the <code>{scope}</code> scope.
      </Alert>
    </>
  );
}
