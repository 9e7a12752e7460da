// Client registration rules and account protections, against the real server and CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as client from 'openid-client';
import * as jose from 'jose';
import { ComplianceServer, Browser, REDIRECT, uniquePseudonym } from '../harness.mjs';

const PASSWORD = 'correct horse battery staple 42';
let server;
let documents;
let documentsUrl;
const served = new Map();

before(async () => {
  // The partner's own web server, on loopback: sector identifier documents and a JWKS.
  documents = createServer((request, response) => {
    if (request.url === '/moved.json') {
      response.writeHead(302, { location: '/sector.json' });
      response.end();
      return;
    }
    const body = served.get(request.url);
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    response.end(body ?? '{}');
  });
  await new Promise((r) => documents.listen(0, '127.0.0.1', r));
  documentsUrl = `http://127.0.0.1:${documents.address().port}`;
  server = await ComplianceServer.start({ Oidc__InteractiveRequestsPerMinute: '40', Oidc__MaxFailedSignIns: '3' });
});
after(async () => { await server.stop(); server.cleanup(); documents.close(); });

const pseudonymOf = (browser) => browser.pseudonym;

async function flow(config, browser, redirect, pseudonym, { signUp = true, extra = {} } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirect, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', nonce: 'n', ...extra,
  });
  let page = await browser.navigate(url.toString());
  if (page.html?.includes('id="signin"')) page = signUp ? await browser.signUp(page, pseudonym, PASSWORD) : await browser.signIn(page, pseudonym, PASSWORD);
  if (page.html?.includes('id="allow"')) page = await browser.consent(page);
  return client.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedNonce: 'n' });
}

test('sector_identifier_uri: redirect URIs on several hosts share one sector when the document lists them all; otherwise registration is refused', async () => {
  served.set('/sector.json', JSON.stringify(['https://app.one.example/cb', 'https://app.two.example/cb']));
  const ok = await server.addClient('multi-host', { redirectUris: ['https://app.one.example/cb', 'https://app.two.example/cb'], sectorIdentifierUri: undefined, extraArgs: [] }).catch((e) => e);
  assert.ok(ok instanceof Error, 'several hosts without a sector identifier are refused');
  assert.match(String(ok.stderr ?? ok.message), /sector_identifier_uri/);

  const registered = JSON.parse(await server.cli(['clients', 'add', '--id', 'multi-host-2', '--name', 'Multi', '--json',
    '--redirect-uri', 'https://app.one.example/cb', '--redirect-uri', 'https://app.two.example/cb', '--sector-identifier-uri', `${documentsUrl}/sector.json`]));
  assert.equal(registered.sector, '127.0.0.1');

  served.set('/partial.json', JSON.stringify(['https://app.one.example/cb']));
  const refused = await server.cli(['clients', 'add', '--id', 'multi-host-3', '--name', 'Multi', '--redirect-uri', 'https://app.one.example/cb',
    '--redirect-uri', 'https://app.two.example/cb', '--sector-identifier-uri', `${documentsUrl}/partial.json`]).catch((e) => e);
  assert.ok(refused instanceof Error);
  assert.match(String(refused.stderr), /does not list https:\/\/app.two.example\/cb/);
});

test('partner documents: http is refused unless explicitly allowed on loopback, and redirects are never followed', async () => {
  served.set('/sector.json', JSON.stringify(['https://app.one.example/cb', 'https://app.two.example/cb']));
  const args = ['clients', 'add', '--name', 'Multi', '--redirect-uri', 'https://app.one.example/cb', '--redirect-uri', 'https://app.two.example/cb'];
  const insecure = await server.cli([...args, '--id', 'http-sector', '--sector-identifier-uri', `${documentsUrl}/sector.json`], { Oidc__AllowLoopbackHttpFetch: 'false' }).catch((e) => e);
  assert.ok(insecure instanceof Error);
  assert.match(String(insecure.stderr), /sector_identifier_uri: must be an https URL/);
  const moved = await server.cli([...args, '--id', 'moved-sector', '--sector-identifier-uri', `${documentsUrl}/moved.json`]).catch((e) => e);
  assert.ok(moved instanceof Error, 'a redirect is not followed');
  assert.match(String(moved.stderr), /could not be fetched/);
});

test('RS256 per client: the ID token is signed RS256 with a key from the JWKS', async () => {
  const { client_id, client_secret } = await server.addClient('rs256-client', { idTokenAlg: 'RS256' });
  const config = await client.discovery(new URL(server.issuer), client_id, { id_token_signed_response_alg: 'RS256' },
    client.ClientSecretBasic(client_secret), { execute: [client.allowInsecureRequests] });
  const tokens = await flow(config, new Browser(server.issuer), REDIRECT, uniquePseudonym());
  assert.equal(jose.decodeProtectedHeader(tokens.id_token).alg, 'RS256');
});

test('private_key_jwt with a jwks_uri: the key is fetched from the partner', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  served.set('/jwks.json', JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'k1', use: 'sig', alg: 'ES256' }] }));
  const registered = JSON.parse(await server.cli(['clients', 'add', '--id', 'remote-keys', '--name', 'Remote', '--json', '--auth', 'private_key_jwt',
    '--redirect-uri', REDIRECT, '--jwks-uri', `${documentsUrl}/jwks.json`]));
  const config = await client.discovery(new URL(server.issuer), registered.client_id, { id_token_signed_response_alg: 'ES256' },
    client.PrivateKeyJwt({ key: privateKey, kid: 'k1' }), { execute: [client.allowInsecureRequests] });
  const tokens = await flow(config, new Browser(server.issuer), REDIRECT, uniquePseudonym());
  assert.ok(tokens.access_token);
});

test('tokens carry no pseudonym: partners get pairwise identifiers only', async () => {
  const { client_id, client_secret } = await server.addClient('no-pseudonym');
  const config = await client.discovery(new URL(server.issuer), client_id, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(client_secret), { execute: [client.allowInsecureRequests] });
  const pseudonym = uniquePseudonym('visible');
  const tokens = await flow(config, new Browser(server.issuer), REDIRECT, pseudonym);
  for (const jwt of [tokens.id_token, tokens.access_token]) {
    assert.equal(JSON.stringify(jose.decodeJwt(jwt)).includes(pseudonym), false);
  }
});

test('max_age and prompt=login: the patient must sign in again', async () => {
  const { client_id, client_secret } = await server.addClient('max-age');
  const config = await client.discovery(new URL(server.issuer), client_id, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(client_secret), { execute: [client.allowInsecureRequests] });
  const browser = new Browser(server.issuer);
  const pseudonym = uniquePseudonym();
  await flow(config, browser, REDIRECT, pseudonym);
  await new Promise((r) => setTimeout(r, 2_100));
  const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', max_age: '1', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  const page = await browser.navigate(url.toString());
  assert.match(page.html ?? '', /id="signin"/, 'asked to sign in again');

  const fresh = new Browser(server.issuer);
  fresh.pseudonym = uniquePseudonym();
  await flow(config, fresh, REDIRECT, fresh.pseudonym);
  const forced = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', prompt: 'login', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  assert.match((await fresh.navigate(forced.toString())).html ?? '', /id="signin"/, 'prompt=login asks again even with a fresh session');

  // max_age=0 means "sign in now": once signed in again, the flow must complete rather than loop.
  const verifier = client.randomPKCECodeVerifier();
  const zero = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', max_age: '0', nonce: 'z', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const signInAgain = await fresh.navigate(zero.toString());
  assert.match(signInAgain.html ?? '', /id="signin"/);
  const done = await fresh.signIn(signInAgain, pseudonymOf(fresh), PASSWORD);
  assert.ok(done.url.startsWith(REDIRECT), `max_age=0 completes after a new sign-in, got ${done.url}`);
  const tokens = await client.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedNonce: 'z', maxAge: 0 });
  assert.ok(tokens.claims().auth_time >= Math.floor(Date.now() / 1000) - 5);
});

test('lockout: after repeated wrong passwords even the right one is refused for a while', async () => {
  const { client_id, client_secret } = await server.addClient('lockout');
  const config = await client.discovery(new URL(server.issuer), client_id, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(client_secret), { execute: [client.allowInsecureRequests] });
  const pseudonym = uniquePseudonym();
  await flow(config, new Browser(server.issuer), REDIRECT, pseudonym);

  const browser = new Browser(server.issuer, { language: 'en' });
  const start = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  let page = await browser.navigate(start.toString());
  for (let attempt = 0; attempt < 3; attempt++) {
    page = await browser.submit(page, { pseudonym, password: 'wrong password attempt' });
    assert.ok([401, 429].includes(page.response.status));
  }
  page = await browser.submit(page, { pseudonym, password: PASSWORD });
  assert.equal(page.response.status, 429);
  assert.match(page.html, /Too many attempts/);
});

test('rate limiting: sign-in posts beyond the per-minute budget get 429', async () => {
  const browser = new Browser(server.issuer);
  const page = await browser.navigate('/account/login');
  const statuses = [];
  for (let i = 0; i < 45; i++) statuses.push((await browser.submit(page, { pseudonym: 'nobody-here', password: 'x'.repeat(12) })).response.status);
  assert.ok(statuses.includes(429), `no 429 among ${statuses.join(',')}`);
  assert.ok(!statuses.includes(500));
});
