import { Alert, Button, Group, Modal, Stack, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { IssuedCredential } from '../api';
import { formatDateTime } from '../lib/format';
import { CopyField } from './CopyField';

/**
 * Shows a freshly issued or rotated secret, once. The secret lives only in the
 * parent's state, which is cleared by onClose; it can't be fetched again.
 */
export function SecretModal({
  issued,
  title = 'New client secret',
  onClose,
  lostHint = 'if it is lost, rotate the credential to get a new one.',
  children,
}: {
  issued: IssuedCredential | null;
  title?: string;
  onClose: () => void;
  /** What to do when the secret is lost (the end of the warning). */
  lostHint?: string;
  /** Shown above the fields (what the credential is for). */
  children?: ReactNode;
}) {
  return (
    <Modal
      opened={issued !== null}
      onClose={onClose}
      title={title}
      size="lg"
      closeOnClickOutside={false}
      closeOnEscape={false}
      withCloseButton={false}
    >
      {issued && (
        <Stack>
          <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="Copy the secret now">
            You will not see this secret again. Store it in your agent's secret store before you close this
            window; {lostHint}
          </Alert>
          {children}
          <CopyField label="Client ID" value={issued.client_id} />
          <CopyField label="Client secret" value={issued.client_secret} />
          <Text size="sm" c="dimmed">
            Credential <code>{issued.credential_id}</code>
            {issued.expires_at ? ` · expires ${formatDateTime(issued.expires_at)}` : ' · does not expire'}
          </Text>
          <Group justify="flex-end">
            <Button onClick={onClose} data-autofocus>
              I have stored the secret
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
