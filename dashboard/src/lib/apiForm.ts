import type { Api, ApiCreate, ApiPatch, ApiScope } from '../api';

export const SCOPE_VALUE = /^[a-z0-9:._\-/]{1,64}$/;
export const MAX_SCOPES = 100;
export const SCOPE_DESCRIPTION_MAX = 256;
export const IDENTIFIER_MAX = 512;
export const API_NAME_MAX = 128;
export const MIN_TTL_SECONDS = 60;

export interface ApiFormValues {
  /** On create only; '' leaves it to the server (the caller's organization). */
  org_id: string;
  identifier: string;
  name: string;
  scopes: ApiScope[];
  /** '' is the server's default lifetime (null). */
  token_ttl_seconds: number | '';
  require_dpop: boolean;
}

export function apiToValues(a: Api | null, defaultOrgId = ''): ApiFormValues {
  return {
    org_id: a?.org_id ?? defaultOrgId,
    identifier: a?.identifier ?? '',
    name: a?.name ?? '',
    scopes: (a?.scopes ?? []).map((s) => ({ value: s.value, description: s.description ?? '' })),
    token_ttl_seconds: a?.token_ttl_seconds ?? '',
    require_dpop: a?.require_dpop ?? false,
  };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Checks an API identifier as the server will (docs/api.md, APIs): an absolute https URI
 * (http only for a loopback host) with a host, without user information, query or
 * fragment, printable ASCII, at most 512 characters. The server normalises it and has the
 * last word (uniqueness, the issuer's origin).
 */
export function validateIdentifier(s: string): string | null {
  const v = s.trim();
  if (!v) return 'An identifier is required';
  if (v.length > IDENTIFIER_MAX) return `At most ${IDENTIFIER_MAX} characters`;
  if (!/^[\x21-\x7e]+$/.test(v)) return 'Printable ASCII only (an international host name in its xn-- form)';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'An absolute URI, such as https://billing.example.com';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'An https URI';
  if (!u.hostname) return 'The URI needs a host';
  if (u.protocol === 'http:' && !isLoopback(u.hostname)) return 'https, or http only for a loopback host';
  if (u.username || u.password || /^[a-z]+:\/\/[^/]*@/i.test(v)) return 'No user information';
  if (v.includes('?')) return 'No query';
  if (v.includes('#')) return 'No fragment';
  return null;
}

export function validateApiName(v: string): string | null {
  const t = v.trim();
  if (!t) return 'Name is required';
  if ([...t].length > API_NAME_MAX) return `At most ${API_NAME_MAX} characters`;
  if (CONTROL.test(t)) return 'No control characters';
  return null;
}

export function validateScopeValue(value: string, all: readonly ApiScope[], index: number): string | null {
  if (!value) return 'A value is required';
  if (!SCOPE_VALUE.test(value)) return '1–64 characters of a-z 0-9 : . _ - /';
  if (all.findIndex((s) => s.value === value) !== index) return 'Each scope once';
  return null;
}

export function validateScopeDescription(d: string): string | null {
  if ([...d].length > SCOPE_DESCRIPTION_MAX) return `At most ${SCOPE_DESCRIPTION_MAX} characters`;
  if (CONTROL.test(d)) return 'No control characters';
  return null;
}

export function validateTtl(v: number | string): string | null {
  if (v === '' || v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isInteger(n) && n >= MIN_TTL_SECONDS ? null : `A whole number of seconds, at least ${MIN_TTL_SECONDS}`;
}

function cleanScopes(scopes: readonly ApiScope[]): ApiScope[] {
  return scopes.map((s) => ({ value: s.value.trim(), description: s.description.trim() }));
}

export function sameScopes(a: readonly ApiScope[], b: readonly ApiScope[]): boolean {
  return a.length === b.length && a.every((s, i) => s.value === b[i].value && (s.description ?? '') === (b[i].description ?? ''));
}

/** The request body: everything on create, only the changed fields on edit. */
export function apiValuesToPayload(v: ApiFormValues, initial: Api | null): ApiCreate | ApiPatch {
  const scopes = cleanScopes(v.scopes);
  const ttl = v.token_ttl_seconds === '' ? null : Number(v.token_ttl_seconds);
  if (!initial) {
    const body: ApiCreate = { identifier: v.identifier.trim(), name: v.name.trim(), scopes, require_dpop: v.require_dpop };
    if (ttl !== null) body.token_ttl_seconds = ttl;
    if (v.org_id) body.org_id = v.org_id;
    return body;
  }
  const patch: ApiPatch = {};
  if (v.name.trim() !== initial.name) patch.name = v.name.trim();
  if (!sameScopes(scopes, initial.scopes)) patch.scopes = scopes;
  if (ttl !== initial.token_ttl_seconds) patch.token_ttl_seconds = ttl;
  if (v.require_dpop !== initial.require_dpop) patch.require_dpop = v.require_dpop;
  return patch;
}

/** Scope values that an edit removes: every agent's grant loses them. */
export function removedScopes(initial: Api, v: ApiFormValues): string[] {
  const kept = new Set(v.scopes.map((s) => s.value.trim()));
  return initial.scopes.map((s) => s.value).filter((s) => !kept.has(s));
}

/**
 * Where the API's operator serves its RFC 9728 metadata: the well-known path inserted
 * between the identifier's host and its path (RFC 9728 §3.1), a terminating slash removed.
 */
export function protectedResourceMetadataUrl(identifier: string): string | null {
  try {
    const u = new URL(identifier);
    const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
    return `${u.origin}/.well-known/oauth-protected-resource${path}`;
  } catch {
    return null;
  }
}

/** Maps a server field name (`scopes[1].value`) to the form's path (`scopes.1.value`). */
export function apiFieldToFormPath(field: string): string {
  return field.replace(/^[/$.]+/, '').replace(/\[(\d+)\]/g, '.$1');
}

export function formatTtl(seconds: number | null): string {
  if (seconds === null) return "the server's token lifetime";
  if (seconds % 3600 === 0) return `${seconds / 3600} h (${seconds} s)`;
  if (seconds % 60 === 0) return `${seconds / 60} min (${seconds} s)`;
  return `${seconds} s`;
}
