import { useState } from 'react';
import { Alert, Button, Group, Stack, Text, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconKey, IconShieldCheck, IconShieldExclamation, IconShieldX } from '@tabler/icons-react';
import { errorMessage } from '../api';
import { useApi } from '../auth/AuthContext';
import { usePinnedKey } from '../hooks/usePinnedKey';
import { CheckpointError, keyLabel, loadVerifiedCheckpoint } from '../lib/checkpointTrust';
import { formatDateTime, formatNumber } from '../lib/format';
import { parseVerifierKey } from '../lib/signedNote';

const mono = { fontFamily: 'var(--mantine-font-family-monospace)' };

/** Pasting, pinning and unpinning the verifier key the user got out of band. */
function PinKeyForm() {
  const [pinned, setPinned, unpin] = usePinnedKey();
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | undefined>();
  if (pinned) {
    return (
      <Group gap="xs" wrap="nowrap" align="center">
        <IconKey size={16} aria-hidden />
        <Text size="xs" style={{ ...mono, wordBreak: 'break-all' }} data-testid="pinned-key">
          {pinned}
        </Text>
        <Button size="compact-xs" variant="subtle" color="gray" onClick={unpin}>
          Unpin key
        </Button>
      </Group>
    );
  }
  const pin = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      const k = await parseVerifierKey(draft);
      setPinned(k.text);
      setDraft('');
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form onSubmit={pin} aria-label="Pin the audit verifier key">
      <Group gap="xs" align="flex-start" wrap="wrap">
        <TextInput
          size="xs"
          style={{ flex: '1 1 22rem' }}
          label="Audit verifier key to pin"
          description="The note verifier key of the audit log, obtained out of band (from your operator, or GET /api/v1/audit/checkpoint/key on a trusted path); kept in this browser."
          placeholder="<origin>+<8 hex digits>+<base64 key>"
          value={draft}
          onChange={(e) => {
            setDraft(e.currentTarget.value);
            setError(undefined);
          }}
          error={error}
          spellCheck={false}
          autoComplete="off"
          styles={{ input: mono }}
        />
        <Button size="xs" type="submit" mt={22} disabled={!draft.trim()}>
          Pin key
        </Button>
      </Group>
    </form>
  );
}

/**
 * The latest signed checkpoint of the audit log, shown only once its signature verified in
 * this browser, and with which key: the pinned one (no server trust) or the server's.
 */
export function CheckpointPanel() {
  const api = useApi();
  const [pinned] = usePinnedKey();
  const cp = useQuery({
    queryKey: ['audit-checkpoint', pinned],
    queryFn: ({ signal }) => loadVerifiedCheckpoint(api, pinned, signal),
    retry: false,
    staleTime: 10000,
  });
  let body: React.ReactNode = null;
  if (cp.isPending) {
    body = (
      <Text size="sm" c="dimmed">
        Verifying the latest checkpoint's signature…
      </Text>
    );
  } else if (cp.isError && cp.error instanceof CheckpointError) {
    body = (
      <Alert variant="filled" color="red" icon={<IconShieldX size={18} />} title="Checkpoint signature not verified" role="alert">
        <Text size="sm">{cp.error.message}</Text>
        <Text size="sm">Inclusion is not checked against this checkpoint.</Text>
      </Alert>
    );
  } else if (cp.isError) {
    body = (
      <Text size="sm" c="dimmed">
        Could not load the latest checkpoint: {errorMessage(cp.error)}
      </Text>
    );
  } else if (cp.data === null) {
    body = (
      <Text size="sm" c="dimmed">
        No signed checkpoint of the audit log yet.
      </Text>
    );
  } else if (cp.data) {
    const c = cp.data;
    const what = (
      <>
        Latest checkpoint ({c.origin}): {formatNumber(c.size)} events
        {c.signedAt ? `, signed ${formatDateTime(new Date(c.signedAt).toISOString())}` : ''}, key{' '}
        <span style={mono}>{keyLabel(c.key)}</span>. Open an event to verify its inclusion in it, in this browser.
      </>
    );
    body =
      c.source === 'pinned' ? (
        <Alert variant="light" color="teal" icon={<IconShieldCheck size={18} />} title="Signature verified with your pinned key" role="status">
          <Text size="sm">{what}</Text>
        </Alert>
      ) : (
        <Alert
          variant="light"
          color="yellow"
          icon={<IconShieldExclamation size={18} />}
          title="Signature verified only with the key the server serves"
          role="status"
        >
          <Text size="sm">
            {what} The key came from this server (GET /api/v1/audit/checkpoint/key) — pin a key to remove server trust.
          </Text>
        </Alert>
      );
  }
  return (
    <Stack gap="xs" mb="md" data-testid="audit-checkpoint">
      {body}
      <PinKeyForm />
    </Stack>
  );
}
