import { Button, Card, EmptyState, Table, Text } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { IconKey, IconRefresh } from '@tabler/icons-react';
import { errorMessage } from '../api';
import { useApi, useAuth } from '../auth/AuthContext';
import { KeyStateBadge } from '../components/Badges';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/Loading';
import { PageHeader } from '../components/PageHeader';
import { ScopeRequired } from '../components/ScopeRequired';
import { formatDateTime } from '../lib/format';

export function KeysPage() {
  const api = useApi();
  const { hasScope } = useAuth();
  const qc = useQueryClient();
  const keys = useQuery({
    queryKey: ['keys'],
    queryFn: ({ signal }) => api.listKeys(signal),
    enabled: hasScope('keys:admin'),
    refetchInterval: (q) => (q.state.data?.items.some((k) => k.state === 'pending') ? 5000 : false),
  });

  if (!hasScope('keys:admin')) {
    return <ScopeRequired title="Signing keys" scope="keys:admin" />;
  }

  const rotate = () =>
    modals.openConfirmModal({
      title: 'Rotate the signing key?',
      children: (
        <Text size="sm">
          A new key is created and published in the JWKS first; it signs tokens only after the publish delay.
          Tokens signed by the current key stay valid until they expire.
        </Text>
      ),
      labels: { confirm: 'Rotate key', cancel: 'Cancel' },
      onConfirm: async () => {
        try {
          await api.rotateKeys();
          notifications.show({ color: 'teal', title: 'Key rotation started', message: 'The new key is pending until it is published.' });
          qc.invalidateQueries({ queryKey: ['keys'] });
          qc.invalidateQueries({ queryKey: ['audit'] });
        } catch (err) {
          notifications.show({ color: 'red', title: 'Could not rotate the key', message: errorMessage(err) });
        }
      },
    });

  const items = [...(keys.data?.items ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at));
  return (
    <>
      <PageHeader
        title="Signing keys"
        description="Keys that sign access tokens; public parts are served at /.well-known/jwks.json"
        actions={
          <Button leftSection={<IconRefresh size={16} />} onClick={rotate}>
            Rotate key
          </Button>
        }
      />
      {keys.isPending && <Loading label="Loading keys" />}
      {keys.isError && <ErrorAlert error={keys.error} title="Could not load keys" />}
      {keys.isSuccess && items.length === 0 && (
        <Card withBorder radius="md" py="xl">
          <EmptyState icon={<IconKey size={32} />} title="No keys" description="The server creates one on first start." />
        </Card>
      )}
      {items.length > 0 && (
        <Card withBorder radius="md" padding={0}>
          <Table.ScrollContainer minWidth={700}>
            <Table verticalSpacing="sm" aria-label="Signing keys">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Key id (kid)</Table.Th>
                  <Table.Th>Algorithm</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Activates</Table.Th>
                  <Table.Th>Retires</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((k) => (
                  <Table.Tr key={k.kid}>
                    <Table.Td>
                      <Text ff="monospace" size="sm">
                        {k.kid}
                      </Text>
                    </Table.Td>
                    <Table.Td>{k.alg}</Table.Td>
                    <Table.Td>
                      <KeyStateBadge state={k.state} />
                    </Table.Td>
                    <Table.Td>{formatDateTime(k.created_at)}</Table.Td>
                    <Table.Td>{formatDateTime(k.activates_at)}</Table.Td>
                    <Table.Td>{formatDateTime(k.retires_at)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
    </>
  );
}
