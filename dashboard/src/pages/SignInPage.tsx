import { useState } from 'react';
import { Alert, Button, Center, Collapse, Group, Paper, PasswordInput, Select, Stack, Text, TextInput, Title, UnstyledButton } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconInfoCircle, IconKey } from '@tabler/icons-react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import type { ClientAuthMethod } from '../api';
import { ErrorAlert } from '../components/ErrorAlert';
import { useAuth, type EndReason } from '../auth/AuthContext';

const REASONS: Record<EndReason, string | null> = {
  expired: 'Your session expired. Sign in again to continue.',
  unauthorized: 'The server no longer accepts your token. Sign in again to continue.',
  signed_out: null,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function SignInForm({ onSignedIn }: { onSignedIn?: () => void }) {
  const { signIn } = useAuth();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [advanced, setAdvanced] = useState(false);
  const form = useForm({
    mode: 'controlled',
    initialValues: { clientId: '', clientSecret: '', method: 'client_secret_basic' as ClientAuthMethod },
    validate: {
      clientId: (v) => (!v.trim() ? 'Client ID is required' : !UUID.test(v.trim()) ? 'The client ID is a UUID' : null),
      clientSecret: (v) => (!v ? 'Client secret is required' : null),
    },
  });

  const submit = form.onSubmit(async ({ clientId, clientSecret, method }) => {
    setError(null);
    setBusy(true);
    try {
      await signIn(clientId.trim(), clientSecret, method);
      // Never keep the secret once the token is obtained.
      form.setValues({ clientSecret: '' });
      onSignedIn?.();
    } catch (err) {
      form.setFieldValue('clientSecret', '');
      setError(err);
    } finally {
      setBusy(false);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label="Sign in">
      <Stack>
        <TextInput
          label="Client ID"
          description="The agent_id of an admin agent"
          placeholder="00000000-0000-0000-0000-000000000000"
          autoComplete="username"
          spellCheck={false}
          required
          data-autofocus
          {...form.getInputProps('clientId')}
        />
        <PasswordInput
          label="Client secret"
          placeholder="sk_live_…"
          autoComplete="current-password"
          required
          {...form.getInputProps('clientSecret')}
        />
        <div>
          <UnstyledButton onClick={() => setAdvanced((a) => !a)} aria-expanded={advanced} fz="xs" c="dimmed">
            {advanced ? '▾' : '▸'} Client authentication
          </UnstyledButton>
          <Collapse expanded={advanced}>
            <Select
              mt="xs"
              label="Client authentication method"
              data={[
                { value: 'client_secret_basic', label: 'HTTP Basic (client_secret_basic)' },
                { value: 'client_secret_post', label: 'Form body (client_secret_post)' },
              ]}
              allowDeselect={false}
              {...form.getInputProps('method')}
            />
          </Collapse>
        </div>
        <ErrorAlert error={error} title="Sign-in failed" />
        <Button type="submit" loading={busy} leftSection={<IconKey size={16} />} fullWidth>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}

export function SignInPage() {
  const { session, endReason } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  if (session) return <Navigate to={from} replace />;
  const reason = endReason ? REASONS[endReason] : null;
  return (
    <Center mih="100vh" p="md" bg="var(--mantine-color-gray-0)">
      <Paper withBorder shadow="sm" radius="md" p="xl" w="100%" maw={440} component="main">
        <Stack gap="lg">
          <div>
            <Title order={1} size="h2">
              AgentIdP
            </Title>
            <Text c="dimmed" size="sm">
              Sign in with an admin agent's client credentials.
            </Text>
          </div>
          {reason && (
            <Alert color="yellow" variant="light" icon={<IconInfoCircle size={18} />} role="status">
              {reason}
            </Alert>
          )}
          <SignInForm onSignedIn={() => navigate(from, { replace: true })} />
          <Group gap={4}>
            <Text size="xs" c="dimmed">
              The secret is used once to get a short-lived token and is not stored; the token is kept in memory
              only, so reloading the page signs you out.
            </Text>
          </Group>
        </Stack>
      </Paper>
    </Center>
  );
}
