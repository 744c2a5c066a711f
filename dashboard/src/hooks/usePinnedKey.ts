import { useCallback, useSyncExternalStore } from 'react';
import { PINNED_KEY_STORAGE } from '../lib/checkpointTrust';

// Tells every component using the hook in this window that the key changed (the "storage"
// event only reaches other windows).
const CHANGED = 'agentidp:pinned-verifier-key';

function read(): string {
  try {
    return localStorage.getItem(PINNED_KEY_STORAGE) ?? '';
  } catch {
    return ''; // storage blocked: nothing pinned
  }
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('storage', onChange);
  window.addEventListener(CHANGED, onChange);
  return () => {
    window.removeEventListener('storage', onChange);
    window.removeEventListener(CHANGED, onChange);
  };
}

function write(key: string | null) {
  try {
    if (key) localStorage.setItem(PINNED_KEY_STORAGE, key);
    else localStorage.removeItem(PINNED_KEY_STORAGE);
  } finally {
    window.dispatchEvent(new Event(CHANGED));
  }
}

/**
 * The audit checkpoint verifier key the user pinned ('' when none), kept in localStorage
 * (written only when pinning, removed when unpinning) and shared by every component using
 * it: the checkpoint panel and each inclusion check.
 */
export function usePinnedKey(): [string, (key: string) => void, () => void] {
  const key = useSyncExternalStore(subscribe, read, () => '');
  const pin = useCallback((k: string) => write(k), []);
  const unpin = useCallback(() => write(null), []);
  return [key, pin, unpin];
}
