// The peer: Node's oidc-provider, configured like the Compliance service's Development demo client.
//   - one confidential client, client_secret_basic, grants client_credentials + authorization_code + refresh_token,
//     redirect URI http://127.0.0.1:5081/callback, PKCE required, ES256 ID tokens;
//   - ES256-signed JWT access tokens (RFC 9068 at+jwt) for one resource server, 5 minutes;
//   - authorization codes live 60 s; a refresh token is issued whenever the client may use the grant (as ours does);
//   - a refresh token is rotated at every use (ours always rotates; oidc-provider's default keeps it for confidential
//     clients);
//   - storage: oidc-provider's in-memory adapter (its default code, with a larger capacity), or, with
//     DATABASE_URL=postgres://..., the durable PostgreSQL adapter of pg-adapter.mjs; one process, NODE_ENV=production.
// The interactive login uses the built-in devInteractions (any login name is accepted), which the benchmark drives
// with a script; only the code *exchange* is timed.
//
// Usage: PORT=5182 [DATABASE_URL=postgres://...] node peer/server.mjs   (prints "ready" on stdout when it listens)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
// oidc-provider's own in-memory adapter, on a larger LRU: its default store keeps only 1000 entries, which a pool of
// 1500 authorization codes (each with its refresh token) would evict before they are exchanged.
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';
import { createPostgresAdapter } from './pg-adapter.mjs';

const port = Number(process.env.PORT ?? 5182);
const issuer = `http://127.0.0.1:${port}`;
const resource = `${issuer}/resource`;

export const CLIENT_ID = 'demo-client';
export const CLIENT_SECRET = 'demo-client-secret-for-local-tries-only';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' };

const durable = process.env.DATABASE_URL ? await createPostgresAdapter(process.env.DATABASE_URL) : null;
const store = new LRU({ maxSize: 1_000_000 });

const provider = new Provider(issuer, {
  adapter: durable ? durable.Adapter : (model) => new MemoryAdapter(model, store),
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1:5081/callback'],
    scope: 'openid offline_access',
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: '',
        audience: resource,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  pkce: { required: () => true },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: { AccessToken: 300, ClientCredentials: 300, AuthorizationCode: 60, IdToken: 300 },
});

const server = provider.listen(port, '127.0.0.1', () => { console.log('ready'); });
const stop = () => server.close(async () => { await durable?.end(); process.exit(0); });
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
