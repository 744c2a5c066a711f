import { useState } from 'react';
import { Alert, Badge, Button, Card, Code, Group, Modal, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { IconEdit, IconInfoCircle, IconTrash } from '@tabler/icons-react';
import { useNavigate, useParams } from 'react-router';
import { errorMessage, type Api, type ApiCreate, type ApiPatch } from '../api';
import { useApi, useAuth } from '../auth/AuthContext';
import { ApiForm } from '../components/ApiForm';
import { CopyIcon } from '../components/CopyField';
import { BackLink, DetailState, Field } from '../components/DetailParts';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/Loading';
import { PageHeader } from '../components/PageHeader';
import { formatTtl, protectedResourceMetadataUrl } from '../lib/apiForm';
import { formatDateTime } from '../lib/format';
import { useOrgScope } from '../org/OrgScope';
import { BuiltinBadge } from './ApisPage';

function ResourceMetadataCard({ a }: { a: Api }) {
  const api = useApi();
  const meta = useQuery({
    // The document follows the API's fields: refetched whenever the API changes.
    queryKey: ['api-metadata', a.api_id, a.updated_at],
    queryFn: ({ signal }) => api.apiResourceMetadata(a.api_id, signal),
  });
  const url = protectedResourceMetadataUrl(a.identifier);
  const text = meta.data ? JSON.stringify(meta.data, null, 2) : '';
  return (
    <Card withBorder radius="md">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Title order={3} size="h4">
          Resource metadata
        </Title>
        {meta.isSuccess && <CopyIcon value={text} label="Copy the resource metadata" />}
      </Group>
      <Text size="sm" c="dimmed" mb="sm">
        The OAuth 2.0 Protected Resource Metadata (RFC 9728) of this API
        {a.builtin ? '.' : <>, for its operator to serve at {url ? <Code>{url}</Code> : 'its identifier’s well-known URL'}.</>}
      </Text>
      {meta.isPending && <Loading label="Loading resource metadata" />}
      {meta.isError && <ErrorAlert error={meta.error} title="Could not load the resource metadata" />}
      {meta.isSuccess && (
        <Code block aria-label="Resource metadata document" style={{ maxHeight: 360, overflow: 'auto' }}>
          {text}
        </Code>
      )}
    </Card>
  );
}

export function ApiDetailPage() {
  const { apiId = '' } = useParams();
  const api = useApi();
  const { hasScope } = useAuth();
  const scope = useOrgScope();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  const q = useQuery({ queryKey: ['api', apiId], queryFn: ({ signal }) => api.getApi(apiId, signal) });

  const back = <BackLink to="/apis">APIs</BackLink>;
  if (!q.isSuccess) return <DetailState query={q} back={back} noun="API" notFound={`No API has the id ${apiId}.`} />;
  const a = q.data;
  const canWrite = hasScope('apis:write') && !a.builtin;

  const refresh = (updated?: Api) => {
    if (updated) qc.setQueryData(['api', updated.api_id], updated);
    qc.invalidateQueries({ queryKey: ['apis'] });
    qc.invalidateQueries({ queryKey: ['agent'] });
    qc.invalidateQueries({ queryKey: ['agents'] });
    qc.invalidateQueries({ queryKey: ['audit'] });
  };
  const save = async (payload: ApiCreate | ApiPatch) => {
    const updated = await api.updateApi(a.api_id, payload as ApiPatch);
    refresh(updated);
    setEditing(false);
    notifications.show({ color: 'teal', title: 'API saved', message: updated.name });
  };
  const remove = () =>
    modals.openConfirmModal({
      title: `Delete ${a.name}?`,
      children: (
        <Stack gap="xs">
          <Text size="sm">
            Every agent's grant on it goes, and every token issued for it stops working at once.
          </Text>
          <Text size="sm">
            Its identifier <Code>{a.identifier}</Code> cannot be registered again in the organization until its last
            token has expired.
          </Text>
        </Stack>
      ),
      labels: { confirm: 'Delete API', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: async () => {
        try {
          await api.deleteApi(a.api_id);
          qc.removeQueries({ queryKey: ['api', a.api_id] });
          refresh();
          notifications.show({ color: 'gray', title: 'API deleted', message: a.name });
          navigate('/apis');
        } catch (err) {
          notifications.show({ color: 'red', title: 'Could not delete the API', message: errorMessage(err), autoClose: 10000 });
        }
      },
    });

  return (
    <>
      {back}
      <PageHeader
        title={a.name}
        description={
          <Group gap={6} component="span">
            {a.builtin && <BuiltinBadge />}
            {a.require_dpop && (
              <Badge color="orange" variant="light" size="sm">
                DPoP required
              </Badge>
            )}
          </Group>
        }
        actions={
          canWrite && (
            <>
              <Button variant="default" leftSection={<IconEdit size={16} />} onClick={() => setEditing(true)}>
                Edit
              </Button>
              <Button variant="light" color="red" leftSection={<IconTrash size={16} />} onClick={remove}>
                Delete
              </Button>
            </>
          )
        }
      />
      <Stack gap="lg">
        {a.builtin && (
          <Alert color="gray" variant="light" icon={<IconInfoCircle size={18} />} title="Read-only">
            This is the server's own management API. It cannot be changed or deleted; an agent's allowed scopes are its
            grant on it.
          </Alert>
        )}
        <Card withBorder radius="md">
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md" verticalSpacing="md">
            <Field label="Identifier (aud)">
              <Group gap={4} wrap="nowrap">
                <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                  {a.identifier}
                </Text>
                <CopyIcon value={a.identifier} label="Copy the identifier" />
              </Group>
            </Field>
            <Field label="API ID">
              <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                {a.api_id}
              </Text>
            </Field>
            <Field label="Organization">{a.org_id ? scope.orgName(a.org_id) : 'every organization (built-in)'}</Field>
            <Field label="Token lifetime">{formatTtl(a.token_ttl_seconds)}</Field>
            <Field label="Require DPoP">
              {a.require_dpop ? 'yes: token requests without a DPoP proof fail (invalid_dpop_proof)' : 'no'}
            </Field>
            <Field label="Created">{formatDateTime(a.created_at)}</Field>
            <Field label="Updated">{formatDateTime(a.updated_at)}</Field>
          </SimpleGrid>
        </Card>
        <Card withBorder radius="md">
          <Title order={3} size="h4" mb="sm">
            Scopes
          </Title>
          {a.scopes.length === 0 ? (
            <Text size="sm" c="dimmed">
              None: agents granted this API get tokens without a scope.
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={420}>
              <Table verticalSpacing="xs" fz="sm" aria-label="Scopes">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th w="35%">Value</Table.Th>
                    <Table.Th>Description</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {a.scopes.map((s) => (
                    <Table.Tr key={s.value}>
                      <Table.Td>
                        <Text size="sm" ff="monospace">
                          {s.value}
                        </Text>
                      </Table.Td>
                      <Table.Td>{s.description || <Text span c="dimmed">—</Text>}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </Card>
        <ResourceMetadataCard a={a} />
      </Stack>
      <Modal opened={editing} onClose={() => setEditing(false)} title={`Edit ${a.name}`} size="lg">
        <ApiForm initial={a} submitLabel="Save changes" onSubmit={save} onCancel={() => setEditing(false)} />
      </Modal>
    </>
  );
}
