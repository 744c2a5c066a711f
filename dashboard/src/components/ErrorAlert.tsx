import { Alert, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { ApiError, errorMessage } from '../api';

export function ErrorAlert({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (!error) return null;
  const requestId = error instanceof ApiError ? error.requestId : null;
  const forbidden = error instanceof ApiError && error.status === 403;
  return (
    <Alert color="red" variant="light" title={forbidden ? 'Not allowed' : title} icon={<IconAlertTriangle size={18} />} role="alert">
      <Text size="sm">{errorMessage(error)}</Text>
      {requestId && (
        <Text size="xs" c="dimmed" mt={4}>
          Request id: <span style={{ fontFamily: 'var(--mantine-font-family-monospace)' }}>{requestId}</span>
        </Text>
      )}
    </Alert>
  );
}
