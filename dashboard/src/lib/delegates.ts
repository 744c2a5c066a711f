/** Editing an agent's `delegates` (SPEC §13): agent ids of its organization that may act for it. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The agent itself cannot be its own delegate; each id once; ids are UUIDs. null when id may be added. */
export function delegateError(id: string, selfId: string | undefined, list: readonly string[]): string | null {
  const t = id.trim().toLowerCase();
  if (!t) return 'Enter an agent id';
  if (!UUID.test(t)) return 'An agent id is a UUID';
  if (selfId && t === selfId.toLowerCase()) return 'An agent cannot be its own delegate';
  if (list.some((d) => d.toLowerCase() === t)) return 'Already a delegate';
  return null;
}

export function addDelegate(list: readonly string[], id: string): string[] {
  const t = id.trim().toLowerCase();
  return list.some((d) => d.toLowerCase() === t) ? [...list] : [...list, t];
}

export function removeDelegate(list: readonly string[], id: string): string[] {
  return list.filter((d) => d !== id);
}

/** Same members, whatever the order (a PATCH is sent only when they differ). */
export function sameDelegates(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a.map((x) => x.toLowerCase()));
  return b.every((x) => s.has(x.toLowerCase()));
}
