export const METADATA_MAX_BYTES = 8 * 1024;

export type MetadataResult =
  | { ok: true; value: Record<string, unknown>; bytes: number }
  | { ok: false; error: string };

/** UTF-8 byte length of a string. */
export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * Validates the text of the metadata editor: it must be a JSON object whose
 * compact serialisation (what is sent to the server) is at most 8 KiB.
 * Empty text means an empty object.
 */
export function validateMetadata(text: string): MetadataResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: {}, bytes: 2 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, error: `Not valid JSON: ${msg}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const kind = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    return { ok: false, error: `Metadata must be a JSON object, not ${kind}.` };
  }
  const bytes = utf8Length(JSON.stringify(parsed));
  if (bytes > METADATA_MAX_BYTES) {
    return { ok: false, error: `Metadata is ${bytes} bytes; the limit is ${METADATA_MAX_BYTES} bytes (8 KiB).` };
  }
  return { ok: true, value: parsed as Record<string, unknown>, bytes };
}

export function formatMetadata(value: unknown): string {
  if (value === null || value === undefined) return '{}';
  if (typeof value === 'object' && Object.keys(value as object).length === 0) return '{}';
  return JSON.stringify(value, null, 2);
}
