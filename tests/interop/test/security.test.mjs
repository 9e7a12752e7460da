// Security findings of the review, each reproduced over HTTP against the real server and now expected to hold: consent
// cannot be decided with a sign-in-stage token, a fresh sign-in is really fresh, sid is pairwise, sign-out ends the
// session on the server (and tells partners over the back channel), refresh tokens need offline_access, hints are
// checked, and a code cannot be burnt by another client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as client from 'openid-client';
import * as jose from 'jose';
import { ComplianceServer, Browser, REDIRECT, POST_LOGOUT, uniquePseudonym } from '../harness.mjs';

const PASSWORD = 'correct horse battery staple 42';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let server;
let sequence = 0;

before(async () => { server = await ComplianceServer.start(); });
after(async () => { await server.stop(); server.cleanup(); });

/** A client id (and host label) no other test uses. */
const unique = (prefix) => `${prefix}-${process.pid}-${++sequence}`;

function decode(text) {
  return text.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#x2B;', '+').replaceAll('&#x2F;', '/')
    .replaceAll('&#x3D;', '=').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&#39;', "'")
    .replace(/&#x([0-9A-F]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)));
}

/** The value of a hidden field of the page's form, as a browser would send it. */
function hidden(html, name) {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html ?? '');
  assert.ok(match, `no hidden field ${name} on the page:\n${html}`);
  return decode(match[1]);
}

async function configFor({ client_id, client_secret }) {
  return client.discovery(new URL(server.issuer), client_id, { id_token_signed_response_alg: 'ES256' },
    client_secret === undefined ? client.None() : client.ClientSecretBasic(client_secret), { execute: [client.allowInsecureRequests] });
}

/** Starts an authorization request in the browser; returns where the provider sent the patient, and the checks. */
async function begin(config, browser, { redirect = REDIRECT, scope = 'openid', extra = {} } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const parameters = {
    redirect_uri: redirect, scope, state: client.randomState(), nonce: client.randomNonce(),
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  };
  const page = await browser.navigate(client.buildAuthorizationUrl(config, parameters).toString());
  return { page, verifier, state: parameters.state, nonce: parameters.nonce };
}

/** The whole front channel: sign up or in through the forms if asked, consent if asked; must end at the partner with a code. */
async function authorize(config, browser, { pseudonym, signUp = true, redirect = REDIRECT, scope = 'openid', extra = {} } = {}) {
  const flow = await begin(config, browser, { redirect, scope, extra });
  let { page } = flow;
  if (page.html?.includes('id="signin"')) page = signUp ? await browser.signUp(page, pseudonym, PASSWORD) : await browser.signIn(page, pseudonym, PASSWORD);
  if (page.html?.includes('id="allow"')) page = await browser.consent(page, 'allow');
  return finish(flow, page, redirect);
}

function finish(flow, page, redirect = REDIRECT) {
  assert.ok(page.url.startsWith(redirect), `expected a redirect to the partner, got ${page.url}\n${page.html ?? ''}`);
  const callback = new URL(page.url);
  assert.ok(callback.searchParams.get('code'), `expected a code, got ${page.url}`);
  return { ...flow, page, callback };
}

async function exchange(config, flow) {
  return client.authorizationCodeGrant(config, flow.callback, {
    pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true,
  });
}

/** A valid antiforgery token for this browser, taken from a page's form (the cookie half is in the jar). */
async function antiforgeryToken(browser) {
  const page = await browser.navigate('/account/login');
  assert.equal(page.response.status, 200);
  return hidden(page.html, '__RequestVerificationToken');
}

/** Posts an interaction token straight to the consent endpoint, as a hostile page or script would. */
async function postConsent(browser, interaction, decision = 'allow') {
  const __RequestVerificationToken = await antiforgeryToken(browser);
  return browser.navigate('/connect/consent', { method: 'POST', form: { __RequestVerificationToken, interaction, decision } });
}

function assertNoCode(page, what) {
  const code = page.url.startsWith(server.issuer) ? null : new URL(page.url).searchParams.get('code');
  assert.equal(code, null, `${what}: a code was issued (${page.url})`);
  assert.ok(page.url.startsWith(server.issuer), `${what}: the partner was reached (${page.url})`);
  assert.equal(page.response.status, 400, `${what}: expected the error page, got ${page.response.status}`);
  assert.match(page.response.headers.get('content-type') ?? '', /text\/html/);
}

async function accountStatus(browser) {
  const response = await browser.request('/account');
  return { status: response.status, location: response.headers.get('location') };
}

/** A real HTTP listener for the partner's back-channel logout endpoint; `answer(n)` is the status of the n-th delivery. */
async function backchannelListener(answer = () => 200) {
  const received = [];
  const listener = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      received.push({ method: request.method, path: request.url, contentType: request.headers['content-type'] ?? '', body, at: Date.now() });
      response.statusCode = answer(received.length);
      response.end();
    });
  });
  await new Promise((ok) => listener.listen(0, '127.0.0.1', ok));
  const { port } = listener.address();
  return {
    uri: `http://127.0.0.1:${port}/bcl`,
    received,
    async waitFor(count, milliseconds) {
      const deadline = Date.now() + milliseconds;
      while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return received.length >= count;
    },
    close: () => new Promise((ok) => { listener.closeAllConnections?.(); listener.close(ok); }),
  };
}

async function verifyLogoutToken(delivery, { client_id, idClaims }) {
  assert.equal(delivery.method, 'POST');
  assert.equal(delivery.path, '/bcl');
  assert.match(delivery.contentType, /^application\/x-www-form-urlencoded/);
  const logoutToken = new URLSearchParams(delivery.body).get('logout_token');
  assert.ok(logoutToken, `no logout_token in ${delivery.body}`);
  const metadata = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json();
  const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri));
  const { payload, protectedHeader } = await jose.jwtVerify(logoutToken, jwks, { issuer: server.issuer, audience: client_id, typ: 'logout+jwt' });
  assert.equal(protectedHeader.typ, 'logout+jwt');
  assert.equal(payload.iss, server.issuer);
  assert.equal(payload.aud, client_id);
  assert.equal(payload.sub, idClaims.sub);
  assert.equal(payload.sid, idClaims.sid);
  assert.ok(payload.events && Object.hasOwn(payload.events, BACKCHANNEL_EVENT), `events: ${JSON.stringify(payload.events)}`);
  assert.equal(payload.nonce, undefined, 'a logout token carries no nonce');
  assert.equal(typeof payload.iat, 'number');
  assert.ok(payload.jti);
  return payload;
}

test('consent bypass (acr): a sign-in-stage interaction posted to /connect/consent decides nothing; no code for a client whose acr is unmet', async () => {
  const strict = await server.addClient(unique('acr-strict'), { minAcr: 'eidas2' });
  const config = await configFor(strict);
  const browser = new Browser(server.issuer, { language: 'en' });
  const flow = await begin(config, browser);
  assert.match(flow.page.html, /id="signin"/, 'sent to the sign-in page');
  const signInStage = hidden(flow.page.html, 'interaction');
  hidden(flow.page.html, '__RequestVerificationToken');

  // A password alone does not reach eidas2: the patient is led to set up a second factor, and no code goes out.
  const refused = await browser.signUp(flow.page, uniquePseudonym('acr'), PASSWORD);
  assert.equal(refused.url.startsWith(REDIRECT), false, 'no redirect to the partner');
  assert.equal(new URL(refused.url).pathname, '/account/security/setup');
  assert.match(refused.html, /id="setup-required"/);

  const bypass = await postConsent(browser, signInStage, 'allow');
  assertNoCode(bypass, 'sign-in-stage token posted to /connect/consent');
  const shown = await browser.navigate(`/connect/consent?interaction=${encodeURIComponent(signInStage)}`);
  assert.equal(shown.url.startsWith(REDIRECT) && new URL(shown.url).searchParams.get('code') !== null, false, 'the consent page itself issued a code');

  // Control: the same way of posting (antiforgery token from another page) does decide a real consent-stage token.
  const lenient = await server.addClient(unique('acr-control'));
  const controlFlow = await begin(await configFor(lenient), browser);
  assert.match(controlFlow.page.html, /id="allow"/, 'signed in: straight to the consent page');
  const decided = await postConsent(browser, hidden(controlFlow.page.html, 'interaction'), 'allow');
  assert.ok(decided.url.startsWith(REDIRECT) && new URL(decided.url).searchParams.get('code'), `the control consent failed: ${decided.url}`);
});

test('consent bypass (prompt=login, max_age=0): the sign-in-stage token cannot skip the fresh sign-in; the real re-sign-in gives a new sid and auth_time', async () => {
  const partner = await server.addClient(unique('fresh-login'));
  const config = await configFor(partner);
  const browser = new Browser(server.issuer);
  const pseudonym = uniquePseudonym('fresh');
  const first = (await exchange(config, await authorize(config, browser, { pseudonym }))).claims();
  assert.ok(first.sid);
  assert.equal(typeof first.auth_time, 'number');
  let previousSid = first.sid;

  for (const extra of [{ prompt: 'login' }, { max_age: '0' }]) {
    const label = JSON.stringify(extra);
    await new Promise((r) => setTimeout(r, 1100)); // auth_time has a one-second grain
    const flow = await begin(config, browser, { extra });
    assert.match(flow.page.html ?? '', /id="signin"/, `${label}: sent to the sign-in page, got ${flow.page.url}`);
    const bypass = await postConsent(browser, hidden(flow.page.html, 'interaction'), 'allow');
    assertNoCode(bypass, `${label}: sign-in-stage token posted to /connect/consent`);

    const signedInAt = Math.floor(Date.now() / 1000);
    const page = await browser.signIn(flow.page, pseudonym, PASSWORD);
    const claims = (await exchange(config, finish(flow, page))).claims();
    assert.notEqual(claims.sid, previousSid, `${label}: the re-sign-in starts a new session`);
    assert.notEqual(claims.sid, first.sid);
    assert.ok(claims.auth_time >= signedInAt, `${label}: auth_time ${claims.auth_time} is before the re-sign-in at ${signedInAt}`);
    assert.ok(claims.auth_time > first.auth_time);
    assert.equal(claims.sub, first.sub, 'the same patient');
    previousSid = claims.sid;
  }
});

test('sid is pairwise: two partners on different sectors, one browser session, share no identifying value', async () => {
  const hostA = `a-${unique('sid')}.example`;
  const hostB = `b-${unique('sid')}.example`;
  const redirectA = `https://${hostA}/cb`;
  const redirectB = `https://${hostB}/cb`;
  const a = await server.addClient(unique('sid-a'), { redirectUris: [redirectA] });
  const b = await server.addClient(unique('sid-b'), { redirectUris: [redirectB] });
  assert.equal(a.sector, hostA);
  assert.equal(b.sector, hostB);
  const browser = new Browser(server.issuer);
  const pseudonym = uniquePseudonym('sid');

  const observed = [];
  for (const [registration, redirect, signUp] of [[a, redirectA, true], [b, redirectB, false]]) {
    const config = await configFor(registration);
    const flow = await authorize(config, browser, { pseudonym, signUp, redirect, scope: 'openid offline_access' });
    const tokens = await exchange(config, flow);
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
    const values = new Map();
    const collect = (name, value) => {
      if (value === null || value === undefined || typeof value === 'function') return;
      if (Array.isArray(value)) for (const item of value) collect(name, item);
      else if (typeof value === 'object') for (const [key, inner] of Object.entries(value)) collect(key, inner);
      else {
        const key = String(value);
        if (!values.has(key)) values.set(key, new Set());
        values.get(key).add(name);
      }
    };
    collect('', jose.decodeProtectedHeader(tokens.id_token));
    collect('', jose.decodeJwt(tokens.id_token));
    collect('', jose.decodeProtectedHeader(tokens.access_token));
    collect('', jose.decodeJwt(tokens.access_token));
    collect('', userinfo);
    for (const [name, value] of Object.entries(tokens)) collect(name, value);
    observed.push({ claims: tokens.claims(), access: jose.decodeJwt(tokens.access_token), values });
  }

  const [A, B] = observed;
  assert.notEqual(A.claims.sub, B.claims.sub, 'sub differs');
  assert.notEqual(A.claims.sid, B.claims.sid, 'sid differs');
  assert.ok(A.claims.sid && B.claims.sid);
  if (A.access.jti || B.access.jti) assert.notEqual(A.access.jti, B.access.jti, 'jti differs');

  const allowed = new Set(['iss', 'acr', 'amr', 'auth_time', 'iat', 'nbf', 'exp', 'scope', 'token_type', 'expires_in', 'alg', 'typ', 'kid']);
  const metadata = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json();
  const { keys: publicKeys } = await (await fetch(metadata.jwks_uri)).json();
  for (const key of publicKeys) for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(key[member], undefined, 'a private key member in the JWKS');
  const kids = new Set(publicKeys.map((k) => k.kid));
  for (const [value, namesA] of A.values) {
    if (!B.values.has(value)) continue;
    const names = new Set([...namesA, ...B.values.get(value)]);
    // The access token's audience is the provider itself (its userinfo resource): the issuer, already public as iss.
    if (value === server.issuer) names.delete('aud');
    for (const name of names) assert.ok(allowed.has(name), `partner A and partner B both see ${JSON.stringify(value)} (as ${[...names].join(', ')})`);
    if (names.has('kid')) assert.ok(kids.has(value), `kid ${value} is not a key id of the provider's JWKS`);
  }
  for (const { values } of observed) {
    for (const [value, names] of values) if (names.has('kid')) assert.ok(kids.has(value), `kid ${value} is not in the JWKS`);
  }
});

test('sign-out ends the session on the server: a copied session cookie no longer opens /account nor answers prompt=none', async () => {
  const partner = await server.addClient(unique('signout'));
  const config = await configFor(partner);
  const browser = new Browser(server.issuer);
  const tokens = await exchange(config, await authorize(config, browser, { pseudonym: uniquePseudonym('signout') }));
  const copy = new Browser(server.issuer);
  copy.cookies = new Map(browser.cookies);
  assert.equal((await accountStatus(copy)).status, 200, 'the copied cookie works before sign-out');

  const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: POST_LOGOUT, state: 'bye' });
  const signedOut = await browser.navigate(endSession.toString());
  assert.equal(signedOut.url, `${POST_LOGOUT}?state=bye`);

  const account = await accountStatus(copy);
  assert.ok(account.status >= 300 && account.status < 400, `the copied cookie still opens /account (${account.status})`);
  assert.equal(new URL(account.location, server.issuer).pathname, '/account/login');
  const silent = await begin(config, copy, { extra: { prompt: 'none' } });
  assert.ok(silent.page.url.startsWith(REDIRECT));
  assert.equal(new URL(silent.page.url).searchParams.get('error'), 'login_required');
  assert.equal(new URL(silent.page.url).searchParams.get('code'), null);
});

test('back-channel logout: advertised; on sign-out the partner receives a signed logout token with its sub and sid', async () => {
  const metadata = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(metadata.backchannel_logout_supported, true);
  assert.equal(metadata.backchannel_logout_session_supported, true);
  const listener = await backchannelListener();
  try {
    const partner = await server.addClient(unique('bcl'), { backchannelLogoutUri: listener.uri });
    const config = await configFor(partner);
    const browser = new Browser(server.issuer);
    const tokens = await exchange(config, await authorize(config, browser, { pseudonym: uniquePseudonym('bcl') }));
    const idClaims = tokens.claims();
    assert.equal(listener.received.length, 0);

    const signedOut = await browser.navigate(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: POST_LOGOUT }).toString());
    assert.equal(signedOut.url, POST_LOGOUT);
    assert.ok(await listener.waitFor(1, 15_000), 'no back-channel logout within 15 s');
    await verifyLogoutToken(listener.received[0], { client_id: partner.client_id, idClaims });
  } finally {
    await listener.close();
  }
});

test('back-channel logout: a failed delivery (HTTP 500) is retried, and the token arrives', async () => {
  const listener = await backchannelListener((n) => (n === 1 ? 500 : 200));
  try {
    const partner = await server.addClient(unique('bcl-retry'), { backchannelLogoutUri: listener.uri });
    const config = await configFor(partner);
    const browser = new Browser(server.issuer);
    const tokens = await exchange(config, await authorize(config, browser, { pseudonym: uniquePseudonym('bcl-retry') }));
    const idClaims = tokens.claims();

    await browser.navigate(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token }).toString());
    assert.ok(await listener.waitFor(1, 15_000), 'no first delivery within 15 s');
    assert.ok(await listener.waitFor(2, 30_000), 'no retry within 30 s of the failed delivery');
    const [failed, retried] = listener.received;
    await verifyLogoutToken(failed, { client_id: partner.client_id, idClaims });
    await verifyLogoutToken(retried, { client_id: partner.client_id, idClaims });
    assert.ok(retried.at - failed.at >= 1000, `retried after only ${retried.at - failed.at} ms`);
    await new Promise((r) => setTimeout(r, 6000)); // more than one delivery round
    assert.equal(listener.received.length, 2, 'a delivered logout token is not sent again');
  } finally {
    await listener.close();
  }
});

test('refresh tokens only with offline_access: scope openid gets none, scope openid offline_access gets one', async () => {
  const partner = await server.addClient(unique('offline'), { scopes: ['openid', 'offline_access'], grants: ['authorization_code', 'refresh_token'] });
  const config = await configFor(partner);
  const browser = new Browser(server.issuer);
  const pseudonym = uniquePseudonym('offline');
  const online = await exchange(config, await authorize(config, browser, { pseudonym, scope: 'openid' }));
  assert.ok(online.access_token);
  assert.equal(online.refresh_token, undefined, 'a refresh token without offline_access');
  assert.doesNotMatch(online.scope ?? jose.decodeJwt(online.access_token).scope ?? '', /offline_access/);

  const offline = await exchange(config, await authorize(config, browser, { pseudonym, signUp: false, scope: 'openid offline_access' }));
  assert.ok(offline.refresh_token, 'offline_access granted: a refresh token');
  const refreshed = await client.refreshTokenGrant(config, offline.refresh_token);
  assert.ok(refreshed.access_token);
});

test('end-session: only an ID token of the current session signs out at once; another patient\'s ID token or an access token leads to the confirmation page', async () => {
  const partner = await server.addClient(unique('hint-logout'));
  const config = await configFor(partner);
  const browserX = new Browser(server.issuer);
  const browserY = new Browser(server.issuer);
  const x = await exchange(config, await authorize(config, browserX, { pseudonym: uniquePseudonym('x') }));
  const y = await exchange(config, await authorize(config, browserY, { pseudonym: uniquePseudonym('y') }));
  assert.notEqual(x.claims().sub, y.claims().sub);

  for (const [label, hint] of [['patient X\'s ID token', x.id_token], ['Y\'s access token', y.access_token]]) {
    const page = await browserY.navigate(`/connect/endsession?id_token_hint=${encodeURIComponent(hint)}`);
    assert.equal(page.response.status, 200, `${label}: ${page.url}`);
    assert.match(page.html ?? '', /id="signout"/, `${label}: the confirmation page`);
    assert.doesNotMatch(page.html, /id="signed-out"/);
    assert.equal((await accountStatus(browserY)).status, 200, `${label}: Y was signed out`);
  }
  assert.equal((await accountStatus(browserX)).status, 200, 'X is untouched');

  const own = await browserY.navigate(`/connect/endsession?id_token_hint=${encodeURIComponent(y.id_token)}`);
  assert.match(own.html ?? '', /id="signed-out"/, `Y's own ID token signs out at once: ${own.url}`);
  const account = await accountStatus(browserY);
  assert.ok(account.status >= 300 && account.status < 400, `Y still signed in (${account.status})`);
  assert.equal(new URL(account.location, server.issuer).pathname, '/account/login');
  assert.equal((await accountStatus(browserX)).status, 200, 'X is still signed in');
});

test('id_token_hint at authorize: another patient\'s ID token is login_required, one\'s own gives a code, a token not ours is invalid_request', async () => {
  const partner = await server.addClient(unique('hint-authz'));
  const other = await server.addClient(unique('hint-other'));
  const config = await configFor(partner);
  const browserX = new Browser(server.issuer);
  const browserY = new Browser(server.issuer);
  const x = await exchange(config, await authorize(config, browserX, { pseudonym: uniquePseudonym('hx') }));
  const y = await exchange(config, await authorize(config, browserY, { pseudonym: uniquePseudonym('hy') }));
  const otherConfig = await configFor(other);
  const yForOther = await exchange(otherConfig, await authorize(otherConfig, browserY, { signUp: false }));

  const silent = async (hint) => {
    const { page } = await begin(config, browserY, { extra: { prompt: 'none', id_token_hint: hint } });
    assert.ok(page.url.startsWith(REDIRECT), `expected an answer at the partner, got ${page.url}\n${page.html ?? ''}`);
    return new URL(page.url).searchParams;
  };

  const foreignPatient = await silent(x.id_token);
  assert.equal(foreignPatient.get('error'), 'login_required');
  assert.equal(foreignPatient.get('code'), null);

  const own = await silent(y.id_token);
  assert.equal(own.get('error'), null, own.get('error_description') ?? '');
  assert.ok(own.get('code'));

  const { privateKey } = await jose.generateKeyPair('ES256');
  const claims = y.claims();
  const forged = await new jose.SignJWT({ sid: claims.sid, auth_time: claims.auth_time, acr: claims.acr })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: jose.decodeProtectedHeader(y.id_token).kid })
    .setIssuer(server.issuer).setAudience(partner.client_id).setSubject(claims.sub).setIssuedAt().setExpirationTime('5m').sign(privateKey);
  for (const [label, hint] of [['garbage', 'not-a-token'], ['signed by another key', forged], ['ours, issued to another client', yForOther.id_token]]) {
    const answer = await silent(hint);
    assert.equal(answer.get('error'), 'invalid_request', `${label}: ${answer}`);
    assert.equal(answer.get('code'), null);
  }
});

test('code burning: a public client presenting another client\'s fresh code is invalid_grant, and the code still works for its client', async () => {
  const owner = await server.addClient(unique('code-owner'));
  const intruder = await server.addClient(unique('code-public'), { type: 'public', auth: 'none' });
  assert.ok(!intruder.client_secret, 'a public client has no secret');
  const config = await configFor(owner);
  const flow = await authorize(config, new Browser(server.issuer), { pseudonym: uniquePseudonym('burn') });
  const code = flow.callback.searchParams.get('code');

  const response = await fetch(`${server.issuer}/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: flow.verifier, client_id: intruder.client_id }),
  });
  assert.equal(response.status, 400);
  assert.equal((await response.json()).error, 'invalid_grant');

  const tokens = await exchange(config, flow);
  assert.ok(tokens.access_token, 'the legitimate client exchanges its code');
  assert.ok(tokens.id_token);
});
