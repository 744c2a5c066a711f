// node-oidc-provider (panva/node-oidc-provider) set up as the nearest peer of AgentIdP's
// token endpoint, for `agentidp-bench -peer oidc-provider`: the client credentials grant,
// client_secret_basic, RS256- or EdDSA-signed RFC 9068 JWT access tokens for one resource,
// its default in-memory adapter (no database, no audit trail), one Node process.
//
//   node server.mjs <port> <client_id> <client_secret> <RS256|EdDSA>
//
// It prints "listening" once it accepts connections.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, alg = 'RS256'] = process.argv.slice(2);
if (!port || !clientId || !clientSecret) {
  console.error('usage: node server.mjs <port> <client_id> <client_secret> [RS256|EdDSA]');
  process.exit(2);
}

const key = alg === 'EdDSA'
  ? generateKeyPairSync('ed25519').privateKey
  : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const jwk = { ...key.export({ format: 'jwk' }), use: 'sig', alg, kid: 'peer' };

const issuer = `http://127.0.0.1:${port}`;
const resource = 'https://api.example.test';
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: alg, // the only key's algorithm (the default RS256 may have no key)
  }],
  jwks: { keys: [jwk] },
  scopes: ['agents:read'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'agents:read',
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg } },
      }),
    },
  },
});
provider.proxy = false;

provider.listen(Number(port), '127.0.0.1', () => console.log('listening'));
