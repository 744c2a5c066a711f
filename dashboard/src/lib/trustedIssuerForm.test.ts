import { describe, expect, it } from 'vitest';
import { emptyTrustedIssuerValues, trustedIssuerPayload, validateIssuer, validateTrustedIssuer } from './trustedIssuerForm';

const KEY = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'ci-1' };

describe('trusted issuer form', () => {
  it('sends the issuer with its jwks_uri', () => {
    const v = { ...emptyTrustedIssuerValues(), issuer: 'https://kubernetes.default.svc', jwks_uri: ' https://k8s.example/openid/v1/jwks ' };
    expect(trustedIssuerPayload(v)).toEqual({ issuer: 'https://kubernetes.default.svc', jwks_uri: 'https://k8s.example/openid/v1/jwks' });
  });

  it('sends a pasted key set by value, and an operator’s organization', () => {
    const v = { ...emptyTrustedIssuerValues('org-1'), issuer: 'spiffe://example.org', source: 'jwks' as const, jwks: JSON.stringify({ keys: [KEY] }) };
    expect(trustedIssuerPayload(v)).toEqual({ org_id: 'org-1', issuer: 'spiffe://example.org', jwks: { keys: [KEY] } });
  });

  it('sends nothing while a field is wrong', () => {
    expect(validateIssuer('')).toMatch(/required/);
    expect(validateIssuer(' https://x ')).toMatch(/No spaces/);
    expect(validateIssuer('x'.repeat(1025))).toMatch(/1024/);
    const v = { ...emptyTrustedIssuerValues(), issuer: 'https://ci.example', source: 'jwks' as const, jwks: JSON.stringify({ keys: [{ ...KEY, d: 'secret' }] }) };
    expect(validateTrustedIssuer(v).jwks).toMatch(/private or symmetric/);
    expect(trustedIssuerPayload(v)).toBeNull();
    expect(validateTrustedIssuer({ ...v, source: 'jwks_uri', jwks_uri: 'http://ci.example/keys' }).jwks_uri).toMatch(/https/);
  });
});
