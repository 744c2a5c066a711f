import { Button, Card, Code, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconTrash } from '@tabler/icons-react';
import { useNavigate, useParams } from 'react-router';
import { useApi, useAuth } from '../auth/AuthContext';
import { CopyIcon } from '../components/CopyField';
import { BackLink, DetailState, Field } from '../components/DetailParts';
import { PageHeader } from '../components/PageHeader';
import { useDeleteTrustedIssuer } from '../hooks/useDeleteTrustedIssuer';
import { formatDateTime } from '../lib/format';
import { useOrgScope } from '../org/OrgScope';

export function TrustedIssuerDetailPage() {
  const { issuerId = '' } = useParams();
  const api = useApi();
  const { hasScope } = useAuth();
  const scope = useOrgScope();
  const navigate = useNavigate();
  const remove = useDeleteTrustedIssuer();
  const q = useQuery({ queryKey: ['trusted-issuer', issuerId], queryFn: ({ signal }) => api.getTrustedIssuer(issuerId, signal) });

  const back = <BackLink to="/trusted-issuers">Trusted issuers</BackLink>;
  if (!q.isSuccess) return <DetailState query={q} back={back} noun="trusted issuer" notFound={`No live trusted issuer has the id ${issuerId}.`} />;
  const ti = q.data;
  const keys = ti.jwks ? JSON.stringify(ti.jwks, null, 2) : '';
  return (
    <>
      {back}
      <PageHeader
        title={ti.issuer}
        description="A trusted issuer cannot be changed: register another and move the credentials"
        actions={
          hasScope('credentials:write') && (
            <Button variant="light" color="red" leftSection={<IconTrash size={16} />} onClick={() => remove(ti, () => navigate('/trusted-issuers'))}>
              Delete
            </Button>
          )
        }
      />
      <Stack gap="lg">
        <Card withBorder radius="md">
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="md">
            <Field breakAll label="Issuer (iss)">
              <Group gap={4} wrap="nowrap">
                <Text size="sm" ff="monospace">
                  {ti.issuer}
                </Text>
                <CopyIcon value={ti.issuer} label="Copy the issuer" />
              </Group>
            </Field>
            <Field breakAll label="Trusted issuer ID">
              <Group gap={4} wrap="nowrap">
                <Text size="sm" ff="monospace">
                  {ti.trusted_issuer_id}
                </Text>
                <CopyIcon value={ti.trusted_issuer_id} label="Copy the trusted issuer id" />
              </Group>
            </Field>
            <Field breakAll label="Organization">
              <Text size="sm" title={ti.org_id}>
                {scope.orgName(ti.org_id)}
              </Text>
            </Field>
            <Field breakAll label="Registered">{formatDateTime(ti.created_at)}</Field>
            <Field breakAll label="Keys">
              {ti.jwks_uri ? (
                <Text size="sm" ff="monospace">
                  {ti.jwks_uri}
                </Text>
              ) : (
                `${ti.jwks?.keys.length ?? 0} given by value`
              )}
            </Field>
          </SimpleGrid>
        </Card>
        {ti.jwks && (
          <Card withBorder radius="md">
            <Title order={3} size="h4" mb="xs">
              Public keys
            </Title>
            <Code block aria-label="Public key set" style={{ maxHeight: 360, overflow: 'auto' }}>
              {keys}
            </Code>
          </Card>
        )}
        <Text size="sm" c="dimmed">
          An agent's federated credential binds this issuer's id and a subject; issue one on the agent's page. Deleting
          the issuer revokes every credential bound to it.
        </Text>
      </Stack>
    </>
  );
}
