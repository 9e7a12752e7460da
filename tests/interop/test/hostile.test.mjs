// Hostile and broken requests against the real server: each gets the right OAuth error, and never a 500.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { ComplianceServer, Browser, REDIRECT, uniquePseudonym } from '../harness.mjs';

const PASSWORD = 'correct horse battery staple 42';
let server;
let partner;
let other;
let browser;

before(async () => {
  server = await ComplianceServer.start();
  partner = await server.addClient('hostile-partner');
  other = await server.addClient('other-partner');
  browser = new Browser(server.issuer);
});
after(async () => { await server.stop(); server.cleanup(); });

const basic = ({ client_id, client_secret }) => `Basic ${Buffer.from(`${encodeURIComponent(client_id)}:${encodeURIComponent(client_secret)}`).toString('base64')}`;

async function token(credentials, body, { raw } = {}) {
  const response = await fetch(`${server.issuer}/connect/token`, {
    method: 'POST',
    headers: { authorization: basic(credentials), 'content-type': 'application/x-www-form-urlencoded' },
    body: raw ?? new URLSearchParams(body).toString(),
  });
  assert.notEqual(response.status, 500);
  return { status: response.status, body: await response.json() };
}

async function introspect(credentials, value) {
  const response = await fetch(`${server.issuer}/connect/introspect`, {
    method: 'POST', headers: { authorization: basic(credentials) }, body: new URLSearchParams({ token: value }),
  });
  return response.json();
}

/** Runs the front channel once; returns a fresh code and its verifier. */
async function code(extra = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const url = new URL(`${server.issuer}/connect/authorize`);
  const params = {
    response_type: 'code', client_id: partner.client_id, redirect_uri: REDIRECT, scope: 'openid offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's1', ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  let page = await browser.navigate(url.toString());
  if (page.html?.includes('id="signin"')) page = await browser.signUp(page, uniquePseudonym('hostile'), PASSWORD);
  if (page.html?.includes('id="allow"')) page = await browser.consent(page);
  return { page, verifier, code: new URL(page.url).searchParams.get('code') };
}

async function authorizeError(extra) {
  const { page } = await code(extra);
  assert.ok(page.url.startsWith(REDIRECT), 'reported to the registered redirect URI');
  const result = new URL(page.url).searchParams;
  assert.equal(result.get('iss'), server.issuer);
  assert.equal(result.get('state'), 's1');
  return result.get('error');
}

test('no PKCE at all: invalid_request, no code', async () => {
  assert.equal(await authorizeError({ code_challenge: undefined, code_challenge_method: undefined }), 'invalid_request');
});

test('plain PKCE: invalid_request', async () => {
  const verifier = client.randomPKCECodeVerifier();
  assert.equal(await authorizeError({ code_challenge: verifier, code_challenge_method: 'plain' }), 'invalid_request');
});

test('a wrong code_verifier: invalid_grant', async () => {
  const { code: value } = await code();
  const result = await token(partner, { grant_type: 'authorization_code', code: value, redirect_uri: REDIRECT, code_verifier: client.randomPKCECodeVerifier() });
  assert.equal(result.status, 400);
  assert.equal(result.body.error, 'invalid_grant');
});

test('a redirect URI that is not registered: an error page, never a redirect', async () => {
  const url = new URL(`${server.issuer}/connect/authorize`);
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: partner.client_id, redirect_uri: 'https://attacker.example/steal', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) url.searchParams.set(k, v);
  const response = await fetch(url, { redirect: 'manual' });
  assert.equal(response.status, 400);
  assert.equal(response.headers.get('location'), null);
  assert.match(await response.text(), /invalid_request/);
  const prefix = await fetch(url.toString().replace('attacker.example%2Fsteal', '127.0.0.1%3A5081%2Fcallback%2Fextra'), { redirect: 'manual' });
  assert.equal(prefix.status, 400, 'the match is exact, not a prefix');
});

test('a replayed code: invalid_grant, and the tokens first issued from it become inactive', async () => {
  const { code: value, verifier } = await code();
  const body = { grant_type: 'authorization_code', code: value, redirect_uri: REDIRECT, code_verifier: verifier };
  const first = await token(partner, body);
  assert.equal(first.status, 200);
  assert.equal((await introspect(partner, first.body.access_token)).active, true);
  const replay = await token(partner, body);
  assert.equal(replay.body.error, 'invalid_grant');
  assert.equal((await introspect(partner, first.body.access_token)).active, false);
  assert.equal((await introspect(partner, first.body.refresh_token)).active, false);
});

test('a reused refresh token: invalid_grant, and the whole family becomes inactive', async () => {
  const { code: value, verifier } = await code();
  const issued = await token(partner, { grant_type: 'authorization_code', code: value, redirect_uri: REDIRECT, code_verifier: verifier });
  const rotated = await token(partner, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token });
  assert.equal(rotated.status, 200);
  const reuse = await token(partner, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token });
  assert.equal(reuse.body.error, 'invalid_grant');
  assert.equal((await introspect(partner, rotated.body.refresh_token)).active, false);
  assert.equal((await introspect(partner, rotated.body.access_token)).active, false);
  const successor = await token(partner, { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token });
  assert.equal(successor.body.error, 'invalid_grant');
});

test('an expired code: invalid_grant', async () => {
  const { code: value, verifier } = await code();
  await new Promise((r) => setTimeout(r, 11_000)); // the server runs with a 10 s code lifetime
  const result = await token(partner, { grant_type: 'authorization_code', code: value, redirect_uri: REDIRECT, code_verifier: verifier });
  assert.equal(result.body.error, 'invalid_grant');
});

test('a code used by another client: invalid_grant', async () => {
  const { code: value, verifier } = await code();
  const result = await token(other, { grant_type: 'authorization_code', code: value, redirect_uri: REDIRECT, code_verifier: verifier });
  assert.equal(result.body.error, 'invalid_grant');
});

test('introspecting another client\'s token: active false, nothing else', async () => {
  const { code: value, verifier } = await code();
  const issued = await token(partner, { grant_type: 'authorization_code', code: value, redirect_uri: REDIRECT, code_verifier: verifier });
  assert.deepEqual(await introspect(other, issued.body.access_token), { active: false });
  assert.deepEqual(await introspect(other, issued.body.refresh_token), { active: false });
});

test('oversized, duplicated and non-UTF-8 parameters: invalid_request, never a 500', async () => {
  const huge = await token(partner, { grant_type: 'authorization_code', code: 'x'.repeat(20_000), redirect_uri: REDIRECT, code_verifier: 'y'.repeat(43) });
  assert.equal(huge.body.error, 'invalid_request');
  const duplicated = await token(partner, {}, { raw: 'grant_type=authorization_code&code=a&code=b&redirect_uri=x&code_verifier=' + 'y'.repeat(43) });
  assert.equal(duplicated.body.error, 'invalid_request');
  const notUtf8 = await token(partner, {}, { raw: 'grant_type=authorization_code&code=%FF%FE&redirect_uri=x' });
  assert.equal(notUtf8.body.error, 'invalid_request');
  const nul = await token(partner, {}, { raw: 'grant_type=client_credentials&scope=%00' });
  assert.equal(nul.body.error, 'invalid_request');

  for (const query of [
    `client_id=${partner.client_id}&client_id=${other.client_id}&response_type=code`,
    `client_id=${partner.client_id}&state=${'s'.repeat(5000)}`,
    `client_id=%FF%FE&response_type=code`,
    'x='.padEnd(7000, 'x'),
  ]) {
    const response = await fetch(`${server.issuer}/connect/authorize?${query}`, { redirect: 'manual' });
    assert.equal(response.status, 400, query.slice(0, 60));
    assert.equal(response.headers.get('location'), null);
  }

  const bigBody = await fetch(`${server.issuer}/connect/token`, {
    method: 'POST', headers: { authorization: basic(partner), 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=' + 'b'.repeat(2_000_000),
  });
  assert.ok([400, 413].includes(bigBody.status), `oversized body answered ${bigBody.status}`);
});

test('broken client authentication and unknown grants: the right OAuth codes', async () => {
  const wrongSecret = await token({ client_id: partner.client_id, client_secret: 'nope' }, { grant_type: 'refresh_token', refresh_token: 'x' });
  assert.equal(wrongSecret.status, 401);
  assert.equal(wrongSecret.body.error, 'invalid_client');
  const malformed = await fetch(`${server.issuer}/connect/token`, { method: 'POST', headers: { authorization: 'Basic %%%', 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
  assert.equal(malformed.status, 401);
  const unknownGrant = await token(partner, { grant_type: 'password', username: 'u', password: 'p' });
  assert.equal(unknownGrant.body.error, 'unsupported_grant_type');
  const notAllowed = await token(partner, { grant_type: 'client_credentials' });
  assert.equal(notAllowed.body.error, 'unauthorized_client');
  const json = await fetch(`${server.issuer}/connect/token`, { method: 'POST', headers: { authorization: basic(partner), 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' });
  assert.equal((await json.json()).error, 'invalid_request');
  const secretPost = await fetch(`${server.issuer}/connect/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: partner.client_id, client_secret: partner.client_secret }) });
  assert.equal(secretPost.status, 401);
});

test('bearer tokens that are forged, foreign or missing: 401 at userinfo', async () => {
  const missing = await fetch(`${server.issuer}/connect/userinfo`);
  assert.equal(missing.status, 401);
  assert.match(missing.headers.get('www-authenticate'), /^Bearer/);
  const forged = await fetch(`${server.issuer}/connect/userinfo`, { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' } });
  assert.equal(forged.status, 401);
  assert.match(forged.headers.get('www-authenticate'), /invalid_token/);
  const inQuery = await fetch(`${server.issuer}/connect/userinfo?access_token=abc`);
  assert.equal(inQuery.status, 401, 'tokens in URLs are not accepted');
});

test('pages: forms without their antiforgery token, tampered interactions and hostile values get an error page, never a 500', async () => {
  const noToken = await fetch(`${server.issuer}/account/login`, { method: 'POST', body: new URLSearchParams({ pseudonym: 'a', password: 'b' }), redirect: 'manual' });
  assert.equal(noToken.status, 400);
  const consentForged = await fetch(`${server.issuer}/connect/consent`, { method: 'POST', body: new URLSearchParams({ interaction: 'CfDJ8forged', decision: 'allow' }), redirect: 'manual' });
  assert.equal(consentForged.status, 400);
  assert.equal(consentForged.headers.get('location'), null);
  const tampered = await fetch(`${server.issuer}/connect/authorize/resume?interaction=CfDJ8${'A'.repeat(200)}`, { redirect: 'manual' });
  assert.equal(tampered.status, 400);
  const consentPage = await fetch(`${server.issuer}/connect/consent?interaction=${'x'.repeat(20_000)}`, { redirect: 'manual' });
  assert.ok([400, 414].includes(consentPage.status), `got ${consentPage.status}`);

  const fresh = new Browser(server.issuer);
  const page = await fresh.navigate('/account/signup');
  const hostile = await fresh.submit(page, { pseudonym: '<script>alert(1)</script>', password: 'x'.repeat(20), password_confirm: 'x'.repeat(20) });
  assert.equal(hostile.response.status, 400);
  assert.equal(hostile.html.includes('<script>'), false, 'nothing of the input is echoed unencoded');
  const csp = hostile.response.headers.get('content-security-policy');
  assert.match(csp, /script-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
});
