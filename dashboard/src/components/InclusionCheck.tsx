import { useState } from 'react';
import { Button, Group, Text } from '@mantine/core';
import { IconShieldCheck } from '@tabler/icons-react';
import { errorMessage, type AuditEvent } from '../api';
import { useApi } from '../auth/AuthContext';
import { usePinnedKey } from '../hooks/usePinnedKey';
import { CheckpointError, keyLabel, loadVerifiedCheckpoint } from '../lib/checkpointTrust';
import { base64ToBytes, eventLeafHash, verifyInclusion } from '../lib/merkle';

type State = 'idle' | 'checking' | 'ok' | 'bad' | 'error';

/**
 * Checks in the browser that an event is in the audit log's latest signed checkpoint: the
 * checkpoint's signature is verified first (with the pinned key, else the server's:
 * lib/checkpointTrust.ts), the leaf is computed here from the event's hash, the root is the
 * verified checkpoint's, and the server's inclusion proof is only hashes that must fold into
 * that root (Web Crypto SHA-256).
 */
export function InclusionCheck({ event }: { event: AuditEvent }) {
  const api = useApi();
  const [pinned] = usePinnedKey();
  const [state, setState] = useState<State>('idle');
  const [msg, setMsg] = useState('');
  const done = (s: State, m: string) => {
    setState(s);
    setMsg(m);
  };
  const run = async () => {
    setState('checking');
    try {
      if (!event.seq || !event.hash) return done('error', 'This event carries no hash to check.');
      let c;
      try {
        c = await loadVerifiedCheckpoint(api, pinned);
      } catch (err) {
        return done(err instanceof CheckpointError ? 'bad' : 'error', errorMessage(err));
      }
      if (!c) return done('error', 'No checkpoint has been signed yet; try again shortly.');
      if (event.seq > c.size) return done('error', `Not in a checkpoint yet (the latest covers ${c.size} events); try again shortly.`);
      const p = await api.auditInclusionProof(event.seq, c.size);
      const ok =
        p.tree_size === c.size &&
        p.leaf_index === event.seq - 1 &&
        (await verifyInclusion(p.leaf_index, c.size, await eventLeafHash(event.hash), p.hashes.map(base64ToBytes), c.root));
      const key = `${c.source === 'pinned' ? 'your pinned key' : "the server's key (not pinned)"} ${keyLabel(c.key)}`;
      if (ok) done('ok', `Included in the checkpoint of ${c.size} events (${c.origin}), whose signature verified with ${key}; checked in this browser.`);
      else done('bad', `The inclusion proof does not match the checkpoint signed with ${key}.`);
    } catch (err) {
      done('error', errorMessage(err));
    }
  };
  const color = state === 'ok' ? 'teal' : state === 'bad' ? 'red' : 'dimmed';
  return (
    <Group gap="xs" mt="xs">
      <Button size="compact-xs" variant="light" leftSection={<IconShieldCheck size={14} />} onClick={run} loading={state === 'checking'}>
        Verify inclusion
      </Button>
      {(state === 'ok' || state === 'bad' || state === 'error') && (
        <Text size="xs" c={color} role="status" data-testid="inclusion-result">
          {msg}
        </Text>
      )}
    </Group>
  );
}
