// Positive flows, driven by openid-client (a certified relying-party library) against the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import { ComplianceServer, Browser, REDIRECT, POST_LOGOUT, uniquePseudonym } from '../harness.mjs';

const PASSWORD = 'correct horse battery staple 42';
let server;
const secrets = [];
const issuedTokens = [];

before(async () => { server = await ComplianceServer.start(); });
after(async () => { await server.stop(); server.cleanup(); });

async function configFor(clientId, secret, metadata = {}) {
  return client.discovery(new URL(server.issuer), clientId, { id_token_signed_response_alg: 'ES256', ...metadata },
    secret === undefined ? client.None() : client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
}

async function registered(id, options = {}) {
  const created = await server.addClient(id, options);
  if (created.client_secret) secrets.push(created.client_secret);
  return created;
}

/** The whole front channel: authorize, sign up or in through the forms, consent, back to the partner with a code. */
async function authorize(config, browser, { pseudonym, signUp = true, extra = {}, viaPar = false } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const parameters = {
    redirect_uri: REDIRECT,
    scope: 'openid offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: client.randomState(),
    nonce: client.randomNonce(),
    ...extra,
  };
  const url = viaPar ? await client.buildAuthorizationUrlWithPAR(config, parameters) : client.buildAuthorizationUrl(config, parameters);
  let page = await browser.navigate(url.toString());
  if (page.html?.includes('id="signin"')) {
    page = signUp ? await browser.signUp(page, pseudonym, PASSWORD) : await browser.signIn(page, pseudonym, PASSWORD);
  }
  if (page.html?.includes('id="allow"')) page = await browser.consent(page, 'allow');
  assert.ok(page.url.startsWith(REDIRECT), `expected a redirect to the partner, got ${page.url}\n${page.html ?? ''}`);
  return { callback: new URL(page.url), verifier, state: parameters.state, nonce: parameters.nonce };
}

async function exchange(config, flow) {
  return client.authorizationCodeGrant(config, flow.callback, {
    pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true,
  });
}

test('discovery: metadata a certified client accepts, with the security profile advertised', async () => {
  const { client_id, client_secret } = await registered('disco');
  const config = await configFor(client_id, client_secret);
  const metadata = config.serverMetadata();
  assert.equal(metadata.issuer, server.issuer);
  assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(metadata.response_types_supported, ['code']);
  assert.deepEqual(metadata.subject_types_supported, ['pairwise']);
  assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  const jwks = await (await fetch(metadata.jwks_uri)).json();
  assert.ok(jwks.keys.some((k) => k.alg === 'ES256'));
  for (const key of jwks.keys) for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[member], undefined);
});

test('code + PKCE: sign-up and consent through the real pages, ID token with every claim, userinfo, refresh, introspection, revocation, end-session', async () => {
  const { client_id, client_secret } = await registered('partner-a');
  const config = await configFor(client_id, client_secret);
  const browser = new Browser(server.issuer, { language: 'en' });
  const flow = await authorize(config, browser, { pseudonym: uniquePseudonym() });
  assert.equal(flow.callback.searchParams.get('iss'), server.issuer, 'RFC 9207 iss in the authorization response');

  const tokens = await exchange(config, flow);
  const claims = tokens.claims();
  for (const name of ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid']) assert.ok(claims[name] !== undefined, `ID token lacks ${name}`);
  assert.equal(claims.acr, 'eidas1');
  assert.deepEqual(claims.amr, ['pwd']);
  assert.equal(claims.nonce, flow.nonce);
  const header = jose.decodeProtectedHeader(tokens.access_token);
  assert.equal(header.typ, 'at+jwt');
  assert.equal(header.alg, 'ES256');
  const access = jose.decodeJwt(tokens.access_token);
  assert.equal(access.client_id, client_id);
  assert.ok(access.jti);
  assert.equal(access.exp - access.iat, 300);

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.deepEqual(userinfo, { sub: claims.sub }, 'only the pairwise sub: the pseudonym is not released');
  const posted = await fetch(config.serverMetadata().userinfo_endpoint, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ access_token: tokens.access_token }),
  });
  assert.equal((await posted.json()).sub, claims.sub);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');
  assert.equal(refreshed.claims().sub, claims.sub);
  secrets.push(tokens.refresh_token, refreshed.refresh_token, flow.callback.searchParams.get('code'));
  issuedTokens.push(tokens.id_token, tokens.access_token, refreshed.id_token, refreshed.access_token);

  const active = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(active.active, true);
  assert.equal(active.sub, claims.sub);
  assert.equal(active.client_id, client_id);
  assert.equal((await client.tokenIntrospection(config, tokens.refresh_token)).active, false, 'a rotated refresh token is spent');

  await client.tokenRevocation(config, refreshed.refresh_token);
  assert.equal((await client.tokenIntrospection(config, refreshed.refresh_token)).active, false);
  assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, false, 'revoking a refresh token revokes its family');

  const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: POST_LOGOUT, state: 'bye' });
  const loggedOut = await browser.navigate(endSession.toString());
  assert.equal(loggedOut.url, `${POST_LOGOUT}?state=bye`);
  const silent = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid', prompt: 'none', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  const afterLogout = await browser.navigate(silent.toString());
  assert.equal(new URL(afterLogout.url).searchParams.get('error'), 'login_required', 'the session is over');
});

test('consent is remembered; prompt=consent asks again; prompt=none without a grant is consent_required; a refusal is access_denied', async () => {
  const { client_id, client_secret } = await registered('partner-consent');
  const config = await configFor(client_id, client_secret);
  const browser = new Browser(server.issuer);
  const pseudonym = uniquePseudonym();
  await authorize(config, browser, { pseudonym });

  const again = await browser.navigate(client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid offline_access', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  }).toString());
  assert.ok(new URL(again.url).searchParams.get('code'), 'remembered: no consent page the second time');

  const forced = await browser.navigate(client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid', prompt: 'consent', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  }).toString());
  assert.match(forced.html, /id="allow"/);
  assert.match(forced.html, /lang="fr"/, 'French by default');
  const denied = await browser.consent(forced, 'deny');
  assert.equal(new URL(denied.url).searchParams.get('error'), 'access_denied');

  const other = await registered('partner-consent-2');
  const otherConfig = await configFor(other.client_id, other.client_secret);
  const none = await browser.navigate(client.buildAuthorizationUrl(otherConfig, {
    redirect_uri: REDIRECT, scope: 'openid', prompt: 'none', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  }).toString());
  assert.equal(new URL(none.url).searchParams.get('error'), 'consent_required');
});

test('withdrawal: one click on the patient\'s own page revokes the partner\'s tokens and its consent', async () => {
  const { client_id, client_secret } = await registered('withdrawn-partner', { name: 'Clinique Retirée' });
  const config = await configFor(client_id, client_secret);
  const browser = new Browser(server.issuer);
  const tokens = await exchange(config, await authorize(config, browser, { pseudonym: uniquePseudonym() }));

  const page = await browser.navigate('/account');
  assert.match(page.html, /Clinique Retirée/);
  const form = /<form method="post" action="\/account\/authorizations\/withdraw">([\s\S]*?)<\/form>/.exec(page.html);
  const after = await browser.submit({ html: `<form method="post" action="/account/authorizations/withdraw">${form[1]}</form>` }, {});
  assert.match(after.html, /id="withdrawn"/);
  assert.doesNotMatch(after.html, /Clinique Retirée/);

  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
  const again = await browser.navigate(client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  }).toString());
  assert.match(again.html, /id="allow"/, 'the partner must ask again');
});

test('pairwise subjects: different sectors see different subs, one sector sees one sub, for the same account', async () => {
  const a = await registered('sector-a', { redirectUris: ['https://a.example/callback'] });
  const b = await registered('sector-b', { redirectUris: ['https://b.example/callback'] });
  // One controller with two clients on one host: registered as such, since a taken sector is otherwise refused.
  const a2 = await registered('sector-a-2', { redirectUris: ['https://a.example/other'], sharedSector: true });
  assert.equal(a.sector, 'a.example');
  assert.equal(b.sector, 'b.example');
  const browser = new Browser(server.issuer);
  const pseudonym = uniquePseudonym();
  const subs = [];
  for (const [registration, redirect] of [[a, 'https://a.example/callback'], [b, 'https://b.example/callback'], [a2, 'https://a.example/other']]) {
    const config = await configFor(registration.client_id, registration.client_secret);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirect, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', nonce: 'n' });
    let page = await browser.navigate(url.toString());
    if (page.html?.includes('id="signin"')) page = subs.length === 0 ? await browser.signUp(page, pseudonym, PASSWORD) : await browser.signIn(page, pseudonym, PASSWORD);
    if (page.html?.includes('id="allow"')) page = await browser.consent(page);
    const tokens = await client.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedNonce: 'n' });
    subs.push(tokens.claims().sub);
  }
  assert.notEqual(subs[0], subs[1], 'two sectors cannot correlate the patient');
  assert.equal(subs[0], subs[2], 'two clients of one sector see the same sub');
  assert.match(subs[0], /^[A-Za-z0-9_-]{43}$/, 'base64url of an HMAC-SHA256');
});

test('client credentials: an ES256 at+jwt whose subject is the client', async () => {
  const { client_id, client_secret } = await registered('machine', { grants: ['client_credentials'], scopes: ['reports.read'] });
  const config = await configFor(client_id, client_secret);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'reports.read' });
  const access = jose.decodeJwt(tokens.access_token);
  assert.equal(access.sub, client_id);
  assert.equal(access.scope, 'reports.read');
  assert.equal(jose.decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, true);
  await client.tokenRevocation(config, tokens.access_token);
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false, 'a revoked machine token is inactive');
  const userinfo = await fetch(config.serverMetadata().userinfo_endpoint, { headers: { authorization: `Bearer ${(await client.clientCredentialsGrant(config, { scope: 'reports.read' })).access_token}` } });
  assert.equal(userinfo.status, 401, 'a machine token speaks for no patient');
});

test('private_key_jwt: a client authenticates with a signed assertion; a replayed assertion is refused', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'partner-key-1', use: 'sig', alg: 'ES256' };
  const { client_id } = await registered('pkjwt', { auth: 'private_key_jwt', jwks: { keys: [jwk] } });
  const config = await client.discovery(new URL(server.issuer), client_id, { id_token_signed_response_alg: 'ES256' },
    client.PrivateKeyJwt({ key: privateKey, kid: 'partner-key-1' }), { execute: [client.allowInsecureRequests] });
  const browser = new Browser(server.issuer);
  const tokens = await exchange(config, await authorize(config, browser, { pseudonym: uniquePseudonym() }));
  assert.ok(tokens.id_token);

  const assertion = await new jose.SignJWT({ jti: 'fixed-jti-1' }).setProtectedHeader({ alg: 'ES256', kid: 'partner-key-1' })
    .setIssuer(client_id).setSubject(client_id).setAudience(server.issuer).setIssuedAt().setExpirationTime('2m').sign(privateKey);
  const body = { token: tokens.access_token, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
  const first = await fetch(`${server.issuer}/connect/introspect`, { method: 'POST', body: new URLSearchParams(body) });
  assert.equal(first.status, 200);
  const replay = await fetch(`${server.issuer}/connect/introspect`, { method: 'POST', body: new URLSearchParams(body) });
  assert.equal(replay.status, 401);
  assert.equal((await replay.json()).error, 'invalid_client');
});

test('PAR: a pushed request works; a client that requires PAR is refused without it', async () => {
  const { client_id, client_secret } = await registered('par-client', { requirePar: true });
  const config = await configFor(client_id, client_secret);
  const browser = new Browser(server.issuer);
  const tokens = await exchange(config, await authorize(config, browser, { pseudonym: uniquePseudonym(), viaPar: true }));
  assert.ok(tokens.access_token);

  const direct = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  const refused = await browser.navigate(direct.toString());
  assert.equal(new URL(refused.url).searchParams.get('error'), 'invalid_request');
});

test('a client that requires eidas2 gives a password-only patient no code: the patient is led to set up a second factor', async () => {
  const { client_id, client_secret } = await registered('strict-acr', { minAcr: 'eidas2' });
  const config = await configFor(client_id, client_secret);
  const browser = new Browser(server.issuer);
  const verifier = client.randomPKCECodeVerifier();
  let page = await browser.navigate(client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).toString());
  page = await browser.signUp(page, uniquePseudonym(), PASSWORD);
  assert.equal(page.url.startsWith(REDIRECT), false, 'not sent back to the partner');
  assert.equal(new URL(page.url).pathname, '/account/security/setup');
  assert.equal(new URL(page.url).searchParams.get('code'), null);

  // What no sign-in here can reach is refused outright.
  const beyond = await browser.navigate(client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', acr_values: 'eidas3',
  }).toString());
  assert.equal(new URL(beyond.url).searchParams.get('error'), 'unmet_authentication_requirements');
});

test('nothing in the pseudonymous store, its write-ahead log or the logs holds a password, a client secret, a code or a raw refresh token', async () => {
  await server.stop();
  const { files, logs } = server.persistedBytes();
  const needles = [PASSWORD, ...secrets].filter(Boolean);
  assert.ok(needles.length >= 5, 'the earlier tests left secrets to look for');
  assert.ok(files.length >= 2);
  for (const needle of needles) {
    for (const [name, bytes] of files) assert.equal(bytes.includes(Buffer.from(needle)), false, `${name} contains a secret`);
    assert.equal(logs.includes(needle), false, 'the logs contain a secret');
  }
  assert.equal(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/.test(logs), false, 'the logs contain a JWT');
  assert.ok(issuedTokens.length >= 4);
  for (const jwt of issuedTokens) {
    const decoded = JSON.stringify([jose.decodeProtectedHeader(jwt), jose.decodeJwt(jwt)]);
    for (const needle of needles) assert.equal(decoded.includes(needle), false, 'a token carries a secret');
  }
  server.launch();
  await server.ready();
});
