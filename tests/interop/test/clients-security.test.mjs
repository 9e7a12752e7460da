// Client registry findings of the security review, against the real server and CLI: the private_key_jwt audience,
// what a removed client leaves behind, pairwise sectors shared by accident, back-channel logout URIs, and PAR limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import { ComplianceServer, Browser, REDIRECT, uniquePseudonym } from '../harness.mjs';

const PASSWORD = 'correct horse battery staple 42';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let server;

before(async () => { server = await ComplianceServer.start(); });
after(async () => { await server.stop(); server.cleanup(); });

const basic = ({ client_id, client_secret }) => `Basic ${Buffer.from(`${encodeURIComponent(client_id)}:${encodeURIComponent(client_secret)}`).toString('base64')}`;

async function configFor({ client_id, client_secret }) {
  return client.discovery(new URL(server.issuer), client_id, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(client_secret), { execute: [client.allowInsecureRequests] });
}

/** The front channel through the real pages; returns the tokens. */
async function signInAndExchange(config, browser, pseudonym, { signUp = true } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid offline_access', nonce: 'n',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  let page = await browser.navigate(url.toString());
  if (page.html?.includes('id="signin"')) page = signUp ? await browser.signUp(page, pseudonym, PASSWORD) : await browser.signIn(page, pseudonym, PASSWORD);
  if (page.html?.includes('id="allow"')) page = await browser.consent(page);
  assert.ok(page.url.startsWith(REDIRECT), `expected a redirect to the partner, got ${page.url}`);
  return client.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedNonce: 'n' });
}

async function post(path, body, headers = {}) {
  const response = await fetch(`${server.issuer}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body).toString(),
  });
  assert.notEqual(response.status, 500, `${path} answered 500`);
  return { status: response.status, body: await response.json() };
}

async function refused(args, extraEnv) {
  const outcome = await server.cli(args, extraEnv).then(() => null, (e) => e);
  assert.ok(outcome instanceof Error, `expected '${args.join(' ')}' to be refused`);
  return String(outcome.stderr);
}

test('private_key_jwt: the assertion audience must be the issuer, as a single string; the token endpoint URL, a trailing slash or an array is invalid_client', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'aud-key', use: 'sig', alg: 'ES256' };
  const { client_id } = await server.addClient('aud-checked', { auth: 'private_key_jwt', jwks: { keys: [jwk] }, grants: ['client_credentials'], scopes: ['reports.read'] });
  const tokenEndpoint = `${server.issuer}/connect/token`;
  const attempt = async (audience) => {
    const assertion = await new jose.SignJWT({ jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'aud-key' })
      .setIssuer(client_id).setSubject(client_id).setAudience(audience).setIssuedAt().setExpirationTime('1m').sign(privateKey);
    return post('/connect/token', { grant_type: 'client_credentials', scope: 'reports.read', client_assertion_type: JWT_BEARER, client_assertion: assertion });
  };

  for (const audience of [tokenEndpoint, `${server.issuer}/`, [server.issuer, 'https://elsewhere.example'], [server.issuer], 'https://elsewhere.example']) {
    const response = await attempt(audience);
    assert.equal(response.status, 401, `aud ${JSON.stringify(audience)} must be refused`);
    assert.equal(response.body.error, 'invalid_client');
  }
  const accepted = await attempt(server.issuer);
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.ok(accepted.body.access_token);
});

test('removing a client revokes what it was issued, and its client_id can never be registered again', async () => {
  const original = await server.addClient('removed-partner');
  const config = await configFor(original);
  const tokens = await signInAndExchange(config, new Browser(server.issuer), uniquePseudonym());
  assert.ok(tokens.refresh_token);

  await server.cli(['clients', 'remove', 'removed-partner']);

  const refresh = await post('/connect/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { authorization: basic(original) });
  assert.ok(['invalid_grant', 'invalid_client'].includes(refresh.body.error), `the old refresh token still works (status ${refresh.status})`);
  const userinfo = await fetch(`${server.issuer}/connect/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(userinfo.status, 401, 'the access token of a removed client is revoked');

  const again = await refused(['clients', 'add', '--id', 'removed-partner', '--name', 'Another partner', '--redirect-uri', 'https://another.example/cb']);
  assert.match(again, /removed-partner/);
  assert.match(again, /removed/);
  assert.equal((await server.cli(['clients', 'list'])).includes('removed-partner'), false, 'a removed client is not listed');
  assert.match(await refused(['clients', 'show', 'removed-partner']), /No client 'removed-partner'/);
  assert.match(await refused(['clients', 'remove', 'removed-partner']), /No client 'removed-partner'/);
});

test('pairwise sectors: two loopback clients see different subs for one patient; a second client on a taken host is refused unless the operator says they are one controller', async () => {
  const first = await server.addClient('loopback-one');
  const second = await server.addClient('loopback-two');
  assert.equal(first.sector, 'client:loopback-one');
  assert.equal(second.sector, 'client:loopback-two');
  const browser = new Browser(server.issuer);
  const pseudonym = uniquePseudonym();
  const one = await signInAndExchange(await configFor(first), browser, pseudonym);
  const two = await signInAndExchange(await configFor(second), browser, pseudonym, { signUp: false });
  assert.notEqual(one.claims().sub, two.claims().sub, 'two loopback partners could correlate the patient');

  await server.addClient('host-owner', { redirectUris: ['https://shared-host.example/a'] });
  const taken = await refused(['clients', 'add', '--id', 'host-guest', '--name', 'Guest', '--redirect-uri', 'https://shared-host.example/b']);
  assert.match(taken, /shared-host\.example/);
  assert.match(taken, /host-owner/);
  assert.match(taken, /--shared-sector/);

  const shared = await server.cli(['clients', 'add', '--id', 'host-guest', '--name', 'Guest', '--redirect-uri', 'https://shared-host.example/b', '--shared-sector']);
  assert.match(shared, /same identifier/);
  assert.match(shared, /host-owner/);
  const viaHarness = await server.addClient('host-guest-2', { redirectUris: ['https://shared-host.example/c'], sharedSector: true });
  assert.equal(viaHarness.sector, 'shared-host.example');
  assert.deepEqual([...viaHarness.shares_sector_with].sort(), ['host-guest', 'host-owner']);
});

test('back-channel logout URI: stored and shown; https only, plain http only on loopback when allowed, no fragment or credentials', async () => {
  await server.cli(['clients', 'add', '--id', 'bcl-partner', '--name', 'BCL', '--redirect-uri', 'https://bcl.example/cb',
    '--backchannel-logout-uri', 'https://bcl.example/backchannel-logout']);
  assert.match(await server.cli(['clients', 'show', 'bcl-partner']), /"BackchannelLogoutUri": "https:\/\/bcl\.example\/backchannel-logout"/);
  assert.match(await server.cli(['clients', 'list']), /bcl-partner.*https:\/\/bcl\.example\/backchannel-logout/);

  await server.cli(['clients', 'add', '--id', 'bcl-loopback', '--name', 'BCL', '--grant', 'client_credentials', '--backchannel-logout-uri', 'http://127.0.0.1:5081/logout']);
  for (const [id, uri, env] of [
    ['bcl-http', 'http://bcl-http.example/logout', {}],
    ['bcl-loop-off', 'http://127.0.0.1:5081/logout', { Oidc__AllowLoopbackHttpFetch: 'false' }],
    ['bcl-fragment', 'https://bcl-fragment.example/logout#x', {}],
    ['bcl-userinfo', 'https://user:pass@bcl-userinfo.example/logout', {}],
    ['bcl-relative', '/logout', {}],
  ]) {
    const error = await refused(['clients', 'add', '--id', id, '--name', 'BCL', '--grant', 'client_credentials', '--backchannel-logout-uri', uri], env);
    assert.match(error, /backchannel_logout_uri/, `${uri}: ${error}`);
  }
});

test('PAR: only the known authorization parameters are kept, and an oversized request is invalid_request, never a 500 nor stored', async () => {
  const partner = await server.addClient('par-bounds');
  const base = {
    response_type: 'code', client_id: partner.client_id, redirect_uri: REDIRECT, scope: 'openid', state: 's',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  };
  const auth = { authorization: basic(partner) };

  const hint = await post('/connect/par', { ...base, id_token_hint: 'a'.repeat(16_000) }, auth);
  assert.equal(hint.status, 400);
  assert.equal(hint.body.error, 'invalid_request');

  const known = await post('/connect/par', { ...base, state: 's'.repeat(4000), login_hint: 'l'.repeat(4000), ui_locales: 'u'.repeat(4000) }, auth);
  assert.equal(known.status, 400, 'about 12 KB of known parameters exceeds the stored size');
  assert.equal(known.body.error, 'invalid_request');

  const unknown = { ...base };
  for (let i = 0; i < 30; i++) unknown[`x_extra_${i}`] = 'x'.repeat(4000);
  const extra = await post('/connect/par', unknown, auth);
  assert.equal(extra.status, 201, 'unknown parameters are ignored (RFC 6749 §3.1), not stored');

  const duplicate = await fetch(`${server.issuer}/connect/par`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth }, body: `${new URLSearchParams(base)}&state=again`,
  });
  assert.equal(duplicate.status, 400);
  assert.equal((await duplicate.json()).error, 'invalid_request');
});
