import { useLocalStorage } from '@mantine/hooks';
import { PINNED_KEY_STORAGE } from '../lib/checkpointTrust';

/**
 * The audit checkpoint verifier key the user pinned ('' when none), kept in localStorage and
 * shared by every component using it (the checkpoint panel, each inclusion check).
 */
export function usePinnedKey(): [string, (key: string) => void, () => void] {
  return useLocalStorage<string>({
    key: PINNED_KEY_STORAGE,
    defaultValue: '',
    getInitialValueInEffect: false,
    serialize: (v) => v,
    deserialize: (v) => v ?? '',
  });
}
