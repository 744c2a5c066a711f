#!/usr/bin/env node
// Interoperability test: the real server (embedded default) driven by stock OAuth
// libraries, openid-client 6 (the client side) and oauth4webapi's RFC 9068 validator (the
// resource-server side), the way users will drive it. Nothing here knows the server's
// internals: metadata comes from discovery, keys from the JWKS. It covers root's issuer and
// a second organization's (`<issuer>/orgs/<org_id>`, discovered by RFC 8414 path insertion),
// and DPoP-bound tokens through openid-client's DPoP handle.
//
//   node e2e/interop.mjs          # builds the server, runs the checks, stops it
//
// Environment: E2E_SERVER_BIN (use this binary instead of `go build ./cmd/agentidp`),
// E2E_BUILD_TIMEOUT_MS (default 900000), INTEROP_TIMEOUT_MS (default 120000).
// The server's log goes to e2e/artifacts/interop-server.log.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { ROOT, buildServer, freePort, newAdmin, startServer, stopServer } from './server.mjs';

const ARTIFACTS = path.join(ROOT, 'dashboard', 'e2e', 'artifacts');
const TIMEOUT = Number(process.env.INTEROP_TIMEOUT_MS || 120_000);
const insecure = { execute: [client.allowInsecureRequests] }; // the test server is plain http on 127.0.0.1

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`[interop] ✓ ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`[interop] ✗ ${name}: ${e.message}`);
  }
}

/**
 * The OAuth error code a failed openid-client call carries. The server's 401
 * invalid_client carries `WWW-Authenticate: Basic` (RFC 6749 §5.2: required when the client
 * used Basic, allowed otherwise), which openid-client raises as a challenge error; the OAuth
 * error is then in the response body, and the result is "<scheme> <error>".
 */
async function oauthError(promise) {
  try {
    await promise;
  } catch (e) {
    if (e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE') {
      const body = await e.response?.json().catch(() => null);
      return `${e.cause?.[0]?.scheme} ${body?.error}`;
    }
    return e.error ?? e.code ?? e.message;
  }
  return 'no error';
}

async function api(base, token, method, p, body) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function scenario(base, admin) {
  // The admin, as any client would: discovery, then client credentials.
  const adminConfig = await client.discovery(new URL(base), admin.id, undefined, client.ClientSecretBasic(admin.secret), insecure);
  const adminToken = (await client.clientCredentialsGrant(adminConfig)).access_token;

  let agent, secret, config, as;
  await check('setup: create an agent and a credential through the API', async () => {
    const created = await api(base, adminToken, 'POST', '/api/v1/agents', {
      name: 'interop-agent', plan: 'free', allowed_scopes: ['agents:read', 'usage:read'],
      allowed_audiences: ['https://api.example.test'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    agent = created.body.agent_id;
    const cred = await api(base, adminToken, 'POST', `/api/v1/agents/${agent}/credentials`);
    assert.equal(cred.status, 201, JSON.stringify(cred.body));
    secret = cred.body.client_secret;
  });

  await check('discovery: RFC 8414 and OpenID configuration documents', async () => {
    config = await client.discovery(new URL(base), agent, undefined, client.ClientSecretBasic(secret),
      { ...insecure, algorithm: 'oauth2' });
    as = config.serverMetadata();
    assert.equal(as.issuer, base);
    assert.ok(as.token_endpoint && as.jwks_uri && as.introspection_endpoint && as.revocation_endpoint);
    assert.ok(as.grant_types_supported.includes('client_credentials'));
    const oidc = await client.discovery(new URL(base), agent, undefined, client.ClientSecretBasic(secret), insecure);
    assert.equal(oidc.serverMetadata().token_endpoint, as.token_endpoint);
  });

  let token;
  await check('client_credentials with client_secret_basic, scope, and resource', async () => {
    const res = await client.clientCredentialsGrant(config, { scope: 'agents:read' });
    assert.equal(res.token_type.toLowerCase(), 'bearer');
    assert.equal(res.scope, 'agents:read');
    assert.ok(res.expires_in > 0 && res.expires_in <= 3600, `expires_in ${res.expires_in}`);
    // An allowed audience that is no registered API gets a token without a scope (version 2),
    // and asking for a scope with it is invalid_scope.
    const aud = await client.clientCredentialsGrant(config, { resource: 'https://api.example.test' });
    assert.equal(aud.scope ?? '', '');
    assert.equal(JSON.parse(Buffer.from(aud.access_token.split('.')[1], 'base64url').toString()).aud, 'https://api.example.test');
    assert.equal(
      await oauthError(client.clientCredentialsGrant(config, { scope: 'agents:read', resource: 'https://api.example.test' })),
      'invalid_scope',
    );
    const own = await client.clientCredentialsGrant(config);
    assert.deepEqual(own.scope.split(' ').sort(), ['agents:read', 'usage:read']);
    token = own.access_token;
  });

  await check('client_credentials with client_secret_post', async () => {
    const post = await client.discovery(new URL(base), agent, undefined, client.ClientSecretPost(secret), insecure);
    const res = await client.clientCredentialsGrant(post, { scope: 'usage:read' });
    assert.equal(res.scope, 'usage:read');
  });

  await check('RFC 9068: a resource server validates the token with oauth4webapi', async () => {
    const req = new Request(`${base}/resource`, { headers: { Authorization: `Bearer ${token}` } });
    const claims = await oauth.validateJwtAccessToken(as, req, base, { [oauth.allowInsecureRequests]: true });
    assert.equal(claims.iss, base);
    assert.equal(claims.sub, agent);
    assert.equal(claims.client_id, agent);
    assert.ok(claims.jti && claims.iat && claims.exp > claims.iat);
    // An audience the token was not issued for is refused.
    await assert.rejects(oauth.validateJwtAccessToken(as, req, 'https://other.example.test', { [oauth.allowInsecureRequests]: true }));
  });

  await check('errors: wrong secret, unknown scope, audience not allowed', async () => {
    const wrong = await client.discovery(new URL(base), agent, undefined, client.ClientSecretBasic(secret + 'x'), insecure);
    assert.equal(await oauthError(client.clientCredentialsGrant(wrong)), 'basic invalid_client');
    const wrongPost = await client.discovery(new URL(base), agent, undefined, client.ClientSecretPost(secret + 'x'), insecure);
    assert.equal(await oauthError(client.clientCredentialsGrant(wrongPost)), 'basic invalid_client');
    assert.equal(await oauthError(client.clientCredentialsGrant(config, { scope: 'keys:admin' })), 'invalid_scope');
    assert.equal(await oauthError(client.clientCredentialsGrant(config, { resource: 'https://evil.example.test' })), 'invalid_target');
  });

  await check('RFC 7662 introspection by the admin client', async () => {
    const info = await client.tokenIntrospection(adminConfig, token);
    assert.equal(info.active, true);
    assert.equal(info.sub, agent);
    assert.equal(info.client_id, agent);
    assert.equal(info.token_type, 'Bearer');
    assert.equal(info.iss, base);
    const bogus = await client.tokenIntrospection(adminConfig, 'not-a-token');
    assert.equal(bogus.active, false);
  });

  await check('RFC 7009 revocation by the token\'s own client: inactive and refused at once', async () => {
    assert.equal((await api(base, token, 'GET', `/api/v1/agents/${agent}`)).status, 200);
    await client.tokenRevocation(config, token);
    assert.equal((await client.tokenIntrospection(adminConfig, token)).active, false);
    const after = await api(base, token, 'GET', `/api/v1/agents/${agent}`);
    assert.equal(after.status, 401);
  });

  await check('private_key_jwt: a key credential through the API, then client_credentials and introspection with openid-client PrivateKeyJwt', async () => {
    for (const k of ['token', 'introspection', 'revocation']) {
      assert.ok(as[`${k}_endpoint_auth_methods_supported`].includes('private_key_jwt'), k);
      assert.ok(as[`${k}_endpoint_auth_signing_alg_values_supported`].includes('ES256'), k);
    }
    const kp = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const jwk = await crypto.subtle.exportKey('jwk', kp.publicKey);
    const created = await api(base, adminToken, 'POST', '/api/v1/agents', {
      name: 'interop-key-agent', allowed_scopes: ['agents:read', 'tokens:introspect'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.agent_id;
    const cred = await api(base, adminToken, 'POST', `/api/v1/agents/${id}/credentials`, {
      type: 'private_key_jwt', jwks: { keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: 'interop-1' }] },
    });
    assert.equal(cred.status, 201, JSON.stringify(cred.body));
    assert.equal(cred.body.type, 'private_key_jwt');
    assert.equal(cred.body.client_secret, undefined);
    assert.deepEqual(cred.body.kids, ['interop-1']);

    const keyConfig = await client.discovery(new URL(base), id, undefined,
      client.PrivateKeyJwt({ key: kp.privateKey, kid: 'interop-1' }), insecure);
    const res = await client.clientCredentialsGrant(keyConfig, { scope: 'agents:read' });
    assert.equal(res.scope, 'agents:read');
    const claims = JSON.parse(Buffer.from(res.access_token.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, id);
    assert.equal(claims.cid, cred.body.credential_id);
    const info = await client.tokenIntrospection(keyConfig, res.access_token);
    assert.equal(info.active, true);
    assert.equal(info.sub, id);
    // Another key, even under the registered kid, is the wrong secret's answer.
    const other = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const wrongKey = await client.discovery(new URL(base), id, undefined,
      client.PrivateKeyJwt({ key: other.privateKey, kid: 'interop-1' }), insecure);
    assert.equal(await oauthError(client.clientCredentialsGrant(wrongKey)), 'basic invalid_client');
  });

  await check('suspending the agent stops its tokens and its client', async () => {
    const fresh = (await client.clientCredentialsGrant(config)).access_token;
    assert.equal((await api(base, adminToken, 'POST', `/api/v1/agents/${agent}/suspend`)).status, 200);
    assert.equal((await client.tokenIntrospection(adminConfig, fresh)).active, false);
    assert.equal(await oauthError(client.clientCredentialsGrant(config)), 'basic invalid_client');
  });
}

/**
 * Organizations as issuers (each non-root organization is `<issuer>/orgs/<org_id>`), seen
 * by the same stock libraries: discovery through the organization's issuer by RFC 8414
 * path insertion and by the OpenID form, a token for its first admin, and a resource
 * server configured with one organization's issuer refusing another's tokens.
 */
async function orgScenario(base, admin) {
  const rootConfig = await client.discovery(new URL(base), admin.id, undefined, client.ClientSecretBasic(admin.secret),
    { ...insecure, algorithm: 'oauth2' });
  const rootAs = rootConfig.serverMetadata();
  const rootToken = (await client.clientCredentialsGrant(rootConfig)).access_token;

  let org, orgAdmin, orgIssuer;
  await check('setup: an organization and its first admin, by the bootstrap admin (POST /api/v1/orgs)', async () => {
    const created = await api(base, rootToken, 'POST', '/api/v1/orgs', { name: 'interop-org', max_agents: 3 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    org = created.body.org;
    orgAdmin = created.body.admin;
    assert.match(orgAdmin.client_secret, /^sk_live_[A-Za-z0-9_-]{43}$/);
    orgIssuer = `${base}/orgs/${org.org_id}`;
  });

  let orgConfig, orgAs;
  await check("discovery through the organization's issuer: RFC 8414 path insertion", async () => {
    const seen = [];
    orgConfig = await client.discovery(new URL(orgIssuer), orgAdmin.client_id, undefined, client.ClientSecretBasic(orgAdmin.client_secret), {
      ...insecure,
      algorithm: 'oauth2',
      [client.customFetch]: (url, init) => {
        seen.push(String(url));
        return fetch(url, init);
      },
    });
    assert.deepEqual(seen, [`${base}/.well-known/oauth-authorization-server/orgs/${org.org_id}`]);
    orgAs = orgConfig.serverMetadata();
    assert.equal(orgAs.issuer, orgIssuer);
    // The same endpoints and keys as the server's.
    for (const k of ['token_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint']) assert.equal(orgAs[k], rootAs[k], k);
    assert.ok(orgAs.grant_types_supported.includes('client_credentials'));
  });

  await check("discovery through the organization's issuer: OpenID configuration", async () => {
    const seen = [];
    const oidc = await client.discovery(new URL(orgIssuer), orgAdmin.client_id, undefined, client.ClientSecretBasic(orgAdmin.client_secret), {
      ...insecure,
      [client.customFetch]: (url, init) => {
        seen.push(String(url));
        return fetch(url, init);
      },
    });
    assert.deepEqual(seen, [`${orgIssuer}/.well-known/openid-configuration`]);
    assert.equal(oidc.serverMetadata().issuer, orgIssuer);
    assert.equal(oidc.serverMetadata().token_endpoint, orgAs.token_endpoint);
    // An organization that does not exist has no metadata.
    const unknown = `${base}/.well-known/oauth-authorization-server/orgs/0199aaaa-0000-7000-8000-000000000000`;
    assert.equal((await fetch(unknown)).status, 404);
    await assert.rejects(
      client.discovery(new URL(`${base}/orgs/0199aaaa-0000-7000-8000-000000000000`), 'x', undefined, client.None(), { ...insecure, algorithm: 'oauth2' }),
    );
  });

  let orgToken;
  await check("client_credentials for the organization's admin, through its issuer's metadata", async () => {
    const res = await client.clientCredentialsGrant(orgConfig);
    orgToken = res.access_token;
    const claims = JSON.parse(Buffer.from(orgToken.split('.')[1], 'base64url').toString());
    assert.equal(claims.iss, orgIssuer);
    assert.equal(claims.org_id, org.org_id);
    assert.equal(claims.sub, orgAdmin.agent_id);
    assert.ok(!res.scope.split(' ').includes('orgs:admin'), `no root-only scope: ${res.scope}`);
    // The server's own API takes it: the admin reads its organization.
    const own = await api(base, orgToken, 'GET', `/api/v1/orgs/${org.org_id}`);
    assert.equal(own.status, 200);
    assert.equal(own.body.name, 'interop-org');
  });

  const insecureRs = { [oauth.allowInsecureRequests]: true };
  await check("RFC 9068: the organization's token validates against the organization's issuer (oauth4webapi)", async () => {
    const req = new Request(`${base}/resource`, { headers: { Authorization: `Bearer ${orgToken}` } });
    const claims = await oauth.validateJwtAccessToken(orgAs, req, base, insecureRs);
    assert.equal(claims.iss, orgIssuer);
    assert.equal(claims.client_id, orgAdmin.client_id);
  });

  await check("a token of one organization does not validate against another organization's issuer", async () => {
    const req = () => new Request(`${base}/resource`, { headers: { Authorization: `Bearer ${orgToken}` } });
    // Root's issuer metadata refuses the organization's token: its iss is not root's.
    await assert.rejects(oauth.validateJwtAccessToken(rootAs, req(), base, insecureRs), (e) => {
      assert.equal(e.code, oauth.JWT_CLAIM_COMPARISON);
      assert.equal(e.cause?.claim, 'iss');
      return true;
    });
    // And the other way round: root's token against the organization's issuer.
    const rootReq = new Request(`${base}/resource`, { headers: { Authorization: `Bearer ${rootToken}` } });
    await assert.rejects(oauth.validateJwtAccessToken(orgAs, rootReq, base, insecureRs), (e) => e.cause?.claim === 'iss');
    // Root's token does validate against root's issuer (the check above is about iss alone).
    await oauth.validateJwtAccessToken(rootAs, rootReq, base, insecureRs);
  });

  await check("a registered API of the organization: a granted agent's token for it validates with the API's audience", async () => {
    const identifier = 'https://ledger.interop.test';
    const created = await api(base, orgToken, 'POST', '/api/v1/apis', {
      identifier, name: 'Ledger', scopes: [{ value: 'ledger:read', description: 'read the ledger' }, { value: 'ledger:write' }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const agent = await api(base, orgToken, 'POST', '/api/v1/agents', {
      name: 'ledger-reader', grants: [{ audience: identifier, scopes: ['ledger:read'] }],
    });
    assert.equal(agent.status, 201, JSON.stringify(agent.body));
    const cred = await api(base, orgToken, 'POST', `/api/v1/agents/${agent.body.agent_id}/credentials`);
    const cfg = await client.discovery(new URL(orgIssuer), agent.body.agent_id, undefined, client.ClientSecretBasic(cred.body.client_secret),
      { ...insecure, algorithm: 'oauth2' });
    const res = await client.clientCredentialsGrant(cfg, { resource: identifier });
    assert.equal(res.scope, 'ledger:read');
    const req = new Request(`${identifier}/entries`, { headers: { Authorization: `Bearer ${res.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(orgAs, req, identifier, insecureRs);
    assert.equal(claims.iss, orgIssuer);
    assert.equal(claims.api, created.body.api_id);
    assert.equal(await oauthError(client.clientCredentialsGrant(cfg, { resource: identifier, scope: 'ledger:write' })), 'invalid_scope');
    // The server's own API refuses a token for another API.
    assert.equal((await api(base, res.access_token, 'GET', `/api/v1/orgs/${org.org_id}`)).status, 401);
  });

  await check("private_key_jwt through the organization's issuer: the assertion's aud is the organization's issuer", async () => {
    // P-384 (ES384). Not Ed25519: oauth4webapi signs Ed25519 keys with the fully-specified
    // alg "Ed25519" (RFC 9864), which the server's JOSE library does not know; it accepts
    // "EdDSA" (docs/api.md, "Client assertions").
    const kp = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']);
    const jwk = await crypto.subtle.exportKey('jwk', kp.publicKey);
    const agent = await api(base, orgToken, 'POST', '/api/v1/agents', { name: 'org-key-agent', allowed_scopes: ['agents:read'] });
    assert.equal(agent.status, 201, JSON.stringify(agent.body));
    const cred = await api(base, orgToken, 'POST', `/api/v1/agents/${agent.body.agent_id}/credentials`, {
      type: 'private_key_jwt', jwks: { keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }] },
    });
    assert.equal(cred.status, 201, JSON.stringify(cred.body));
    const [kid] = cred.body.kids; // the RFC 7638 thumbprint: the key was sent without kid
    const cfg = await client.discovery(new URL(orgIssuer), agent.body.agent_id, undefined,
      client.PrivateKeyJwt({ key: kp.privateKey, kid }), { ...insecure, algorithm: 'oauth2' });
    const res = await client.clientCredentialsGrant(cfg);
    const claims = JSON.parse(Buffer.from(res.access_token.split('.')[1], 'base64url').toString());
    assert.equal(claims.iss, orgIssuer);
    assert.equal(claims.sub, agent.body.agent_id);
  });

  await check("introspection of the organization's token names its organization and issuer", async () => {
    const info = await client.tokenIntrospection(rootConfig, orgToken);
    assert.equal(info.active, true);
    assert.equal(info.iss, orgIssuer);
    assert.equal(info.org_id, org.org_id);
  });
}

/**
 * DPoP (RFC 9449) with openid-client's DPoP handle: a DPoP-bound token for an agent that
 * requires one, the server's own API called with it through fetchProtectedResource (proofs
 * with htm, htu and ath made by the library), introspection's cnf, and the RFC 9449 §7
 * answers to a bound token sent as Bearer and to a proof of another key.
 */
async function dpopScenario(base, admin) {
  const adminConfig = await client.discovery(new URL(base), admin.id, undefined, client.ClientSecretBasic(admin.secret), insecure);
  const adminToken = (await client.clientCredentialsGrant(adminConfig)).access_token;

  let agent, config, dpop, token;
  await check('DPoP: setup: an agent with require_dpop, and discovery lists the proof algorithms', async () => {
    const created = await api(base, adminToken, 'POST', '/api/v1/agents', {
      name: 'interop-dpop-agent', allowed_scopes: ['agents:read'], require_dpop: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.require_dpop, true);
    agent = created.body.agent_id;
    const cred = await api(base, adminToken, 'POST', `/api/v1/agents/${agent}/credentials`);
    assert.equal(cred.status, 201, JSON.stringify(cred.body));
    config = await client.discovery(new URL(base), agent, undefined, client.ClientSecretBasic(cred.body.client_secret),
      { ...insecure, algorithm: 'oauth2' });
    assert.deepEqual(config.serverMetadata().dpop_signing_alg_values_supported, ['RS256', 'PS256', 'ES256', 'EdDSA']);
  });

  await check('DPoP: openid-client obtains a DPoP-bound token with a DPoP handle (PS256 and ES256 keys)', async () => {
    // Without a proof the agent gets nothing.
    assert.equal(await oauthError(client.clientCredentialsGrant(config)), 'invalid_dpop_proof');
    // Not EdDSA: oauth4webapi signs with an Ed25519 key under the fully-specified alg name
    // "Ed25519" (RFC 9864), which go-jose, and so this server, does not take (it takes "EdDSA").
    for (const alg of ['PS256', 'ES256']) {
      dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair(alg));
      const res = await client.clientCredentialsGrant(config, { scope: 'agents:read' }, { DPoP: dpop });
      assert.equal(res.token_type.toLowerCase(), 'dpop');
      token = res.access_token;
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
      assert.match(claims.cnf?.jkt ?? '', /^[A-Za-z0-9_-]{43}$/);
    }
  });

  await check('DPoP: fetchProtectedResource with the DPoP handle calls GET /api/v1/agents/{id}', async () => {
    for (let i = 0; i < 2; i++) { // a fresh proof (jti) each time
      const res = await client.fetchProtectedResource(config, token, new URL(`${base}/api/v1/agents/${agent}`), 'GET',
        undefined, undefined, { DPoP: dpop });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).agent_id, agent);
    }
  });

  await check('DPoP: the bound token as Bearer, and with a proof of another key, is 401 DPoP invalid_token', async () => {
    const bearer = await fetch(`${base}/api/v1/agents/${agent}`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(bearer.status, 401);
    assert.match(bearer.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_token"/);
    const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    await assert.rejects(
      client.fetchProtectedResource(config, token, new URL(`${base}/api/v1/agents/${agent}`), 'GET', undefined, undefined, { DPoP: other }),
      (e) => {
        assert.equal(e.code, 'OAUTH_WWW_AUTHENTICATE_CHALLENGE', e.message);
        assert.equal(e.cause?.[0]?.scheme, 'dpop');
        assert.equal(e.cause?.[0]?.parameters?.error, 'invalid_token');
        return true;
      },
    );
    const none = await fetch(`${base}/api/v1/agents/${agent}`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /DPoP algs="RS256 PS256 ES256 EdDSA"/);
  });

  await check('DPoP: introspection returns cnf.jkt and token_type DPoP', async () => {
    const info = await client.tokenIntrospection(adminConfig, token);
    assert.equal(info.active, true);
    assert.equal(info.token_type, 'DPoP');
    assert.equal(info.cnf?.jkt, JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).cnf.jkt);
  });
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const workDir = mkdtempSync(path.join(tmpdir(), 'agentidp-interop-'));
  let server = null;
  const timer = setTimeout(async () => {
    console.log(`[interop] timed out after ${TIMEOUT} ms`);
    await stopServer(server);
    process.exit(1);
  }, TIMEOUT);
  timer.unref();
  try {
    const bin = process.env.E2E_SERVER_BIN || buildServer(workDir, Number(process.env.E2E_BUILD_TIMEOUT_MS || 900_000));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const admin = newAdmin();
    server = await startServer({ bin, workDir, port, base, admin, logFile: path.join(ARTIFACTS, 'interop-server.log') });
    await scenario(base, admin);
    await orgScenario(base, admin);
    await dpopScenario(base, admin);
  } catch (e) {
    results.push({ name: 'setup', ok: false });
    console.error('[interop] FAILED:', e.message);
  } finally {
    await stopServer(server);
    rmSync(workDir, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`interop: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

await main();
