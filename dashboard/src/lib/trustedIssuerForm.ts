import type { TrustedIssuerCreate } from '../api';
import { checkJwksUri, parseJwks } from './jwks';

/** An issuer (its exact `iss`): at most this many characters (the server's limit). */
export const MAX_ISSUER_LENGTH = 1024;

export type KeySource = 'jwks_uri' | 'jwks';

export interface TrustedIssuerFormValues {
  /** For an operator: the organization it serves; '' leaves it to the server (the caller's). */
  org_id: string;
  issuer: string;
  source: KeySource;
  jwks_uri: string;
  jwks: string;
}

export function emptyTrustedIssuerValues(orgId = ''): TrustedIssuerFormValues {
  return { org_id: orgId, issuer: '', source: 'jwks_uri', jwks_uri: '', jwks: '' };
}

/** The issuer is compared byte for byte with the tokens' `iss`: no surrounding spaces. */
export function validateIssuer(v: string): string | null {
  if (!v) return 'The issuer is required: the exact iss of the tokens it signs';
  if (v.trim() !== v) return 'No spaces before or after: it must equal the tokens’ iss exactly';
  if (v.length > MAX_ISSUER_LENGTH) return `At most ${MAX_ISSUER_LENGTH} characters`;
  return null;
}

/** Per-field errors of the form's values (empty when it may be sent). */
export function validateTrustedIssuer(v: TrustedIssuerFormValues): Partial<Record<keyof TrustedIssuerFormValues, string>> {
  const out: Partial<Record<keyof TrustedIssuerFormValues, string>> = {};
  const issuer = validateIssuer(v.issuer);
  if (issuer) out.issuer = issuer;
  if (v.source === 'jwks_uri') {
    const e = checkJwksUri(v.jwks_uri);
    if (e) out.jwks_uri = e;
  } else {
    const r = parseJwks(v.jwks);
    if (!r.ok) out.jwks = r.error;
  }
  return out;
}

/** The body of POST /api/v1/trusted-issuers: the issuer and one key source; null when invalid. */
export function trustedIssuerPayload(v: TrustedIssuerFormValues): TrustedIssuerCreate | null {
  if (Object.keys(validateTrustedIssuer(v)).length) return null;
  const org = v.org_id ? { org_id: v.org_id } : {};
  if (v.source === 'jwks_uri') return { ...org, issuer: v.issuer, jwks_uri: v.jwks_uri.trim() };
  const r = parseJwks(v.jwks);
  return r.ok ? { ...org, issuer: v.issuer, jwks: r.value } : null;
}
