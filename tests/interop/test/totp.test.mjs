// The authenticator app (TOTP) second factor, end to end: set up on the real pages, a sign-in with a code that
// openid-client turns into an ID token, and single use across two server processes that share one store (the same
// data folder: SQLite files, key ring and key file), each on its own port and issuer. Codes are computed here from
// the key the page showed, as an authenticator app does (RFC 6238: HMAC-SHA1, 30 s, 6 digits), independently of the
// server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import * as client from 'openid-client';
import { ComplianceServer, Browser, REDIRECT, uniquePseudonym } from '../harness.mjs';

const PASSWORD = 'correct horse battery staple 42';
const REPLAYED = 'That code has already been used. Wait for your app to show a new one.';
const SPENT_RECOVERY = 'This recovery code is not valid: it is mistyped, or it was already used (each one works once).';
let nodeA;
let nodeB;

before(async () => {
  nodeA = await ComplianceServer.start();
  nodeB = await nodeA.secondNode();
});
after(async () => {
  await nodeB?.stop();
  await nodeA?.stop();
  nodeA?.cleanup();
});

const decode = (text) => text.replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
  .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec))).replaceAll('&quot;', '"').replaceAll('&amp;', '&');
const alert = (page) => decode(/<p class="alert" role="alert">([^<]*)<\/p>/.exec(page.html ?? '')?.[1] ?? '');

/** RFC 4648 base32, as the page shows the key. */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '')) {
    const value = alphabet.indexOf(c);
    if (value < 0) throw new Error(`${c} is not base32`);
    bits += value.toString(2).padStart(5, '0');
  }
  return Buffer.from(Array.from({ length: Math.floor(bits.length / 8) }, (_, i) => parseInt(bits.slice(i * 8, i * 8 + 8), 2)));
}

/** What an authenticator app shows for this key in this time step (RFC 6238 over RFC 4226 §5.3). */
function codeAt(base32Key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const hash = createHmac('sha1', base32Decode(base32Key)).update(counter).digest();
  const offset = hash[hash.length - 1] & 0x0f;
  return String((hash.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const currentStep = () => Math.floor(Date.now() / 1000 / 30);

// A code used at set-up cannot serve again in its step: the app's next code, which the server takes as one step of
// clock drift (RFC 6238 §6), or the current one once real time has moved past the step last used.
const nextUsableStep = (lastUsed) => Math.max(currentStep(), lastUsed + 1);

test('the tests compute codes as the RFC says (RFC 6238 appendix B, SHA-1, last 6 of 8 digits)', () => {
  const seed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // base32 of "12345678901234567890"
  assert.equal(codeAt(seed, Math.floor(59 / 30)), '287082');
  assert.equal(codeAt(seed, Math.floor(1111111109 / 30)), '081804');
  assert.equal(codeAt(seed, Math.floor(1234567890 / 30)), '005924');
  assert.equal(codeAt(seed, Math.floor(20000000000 / 30)), '353130');
});

async function configFor(node, clientId, secret) {
  return client.discovery(new URL(node.issuer), clientId, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
}

/** Signs up on node A, sets up the app on Account security (wherever it leads) with the current code. */
async function enrolled() {
  const pseudonym = uniquePseudonym('totp');
  const browser = new Browser(nodeA.issuer, { language: 'en' });
  const signedUp = await browser.signUp(await browser.navigate('/account/login'), pseudonym, PASSWORD);
  assert.equal(signedUp.response.status, 200, 'signed up');

  const security = await browser.navigate('/account/security');
  const begun = await browser.submitForm(security, 'totp-begin');
  assert.equal(begun.response.status, 200);
  const key = /<code id="totp-key">([A-Z2-7]+)<\/code>/.exec(begun.html)?.[1];
  assert.match(key ?? '', /^[A-Z2-7]{32}$/, '160 bits in base32');
  assert.ok(decode(/id="totp-uri" href="([^"]+)"/.exec(begun.html)[1]).startsWith(`otpauth://totp/Compliance:${pseudonym}?secret=${key}&`));

  const step = currentStep();
  const confirmed = await browser.submitForm(begun, 'totp-confirm', { code: codeAt(key, step) });
  assert.equal(confirmed.response.status, 200, alert(confirmed));
  assert.match(confirmed.html, /id="totp-enabled"/);
  const recoveryCodes = [...confirmed.html.matchAll(/<li><code>([2-9A-Z]{5}-[2-9A-Z]{5})<\/code><\/li>/g)].map((m) => m[1]);
  assert.equal(recoveryCodes.length, 10);
  return { pseudonym, key, step, recoveryCodes };
}

/** A partner's authorization request on a node, and the right password in a new browser: the second step's page. */
async function toSecondStep(node, config, pseudonym) {
  const verifier = client.randomPKCECodeVerifier();
  const parameters = {
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: client.randomState(),
    nonce: client.randomNonce(),
    ui_locales: 'en',
  };
  const browser = new Browser(node.issuer, { language: 'en' });
  const signIn = await browser.navigate(client.buildAuthorizationUrl(config, parameters).toString());
  const page = await browser.signIn(signIn, pseudonym, PASSWORD);
  assert.equal(page.response.status, 200);
  assert.match(page.html, /id="second-factor-intro"/, 'the password alone opens no session');
  return { browser, page, flow: { verifier, state: parameters.state, nonce: parameters.nonce } };
}

/** Consents if asked, and exchanges the code at the partner with openid-client. */
async function toPartner(config, { browser, flow }, page) {
  const consented = page.html?.includes('id="allow"') ? await browser.consent(page, 'allow') : page;
  assert.ok(consented.url.startsWith(REDIRECT), `expected the partner's callback, got ${consented.url}\n${consented.html ?? ''}`);
  return client.authorizationCodeGrant(config, new URL(consented.url), {
    pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true,
  });
}

async function signedIn(browser) {
  const account = await browser.navigate('/account');
  return !new URL(account.url).pathname.startsWith('/account/login');
}

test('TOTP: a code opens the session and the ID token says eidas2 (pwd, otp, mfa); the same code on a second node is refused as replayed', async () => {
  const { client_id, client_secret } = await nodeA.addClient('totp-partner', { grants: ['authorization_code'], scopes: ['openid'] });
  const configA = await configFor(nodeA, client_id, client_secret);
  const configB = await configFor(nodeB, client_id, client_secret);
  const { pseudonym, key, step: enrolledStep } = await enrolled();

  const onA = await toSecondStep(nodeA, configA, pseudonym);
  const code = codeAt(key, nextUsableStep(enrolledStep));
  const verified = await onA.browser.submit(onA.page, { code });
  const tokens = await toPartner(configA, onA, verified);
  const claims = tokens.claims();
  assert.equal(claims.acr, 'eidas2');
  assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
  assert.equal(claims.iss, nodeA.issuer);

  const onB = await toSecondStep(nodeB, configB, pseudonym);
  const replayed = await onB.browser.submit(onB.page, { code });
  assert.equal(replayed.response.status, 401);
  assert.equal(alert(replayed), REPLAYED, 'node B knows from the shared store that node A took this code');
  assert.match(replayed.html, /id="second-factor-intro"/);
  assert.equal(await signedIn(onB.browser), false, 'a replayed code opens no session');
});

test('recovery code: accepted once on one node (eidas2), refused the second time on the other, while an unused one still works', async () => {
  const { client_id, client_secret } = await nodeA.addClient('totp-rescue', { grants: ['authorization_code'], scopes: ['openid'] });
  const configA = await configFor(nodeA, client_id, client_secret);
  const configB = await configFor(nodeB, client_id, client_secret);
  const { pseudonym, recoveryCodes } = await enrolled();

  const onB = await toSecondStep(nodeB, configB, pseudonym);
  const used = await onB.browser.submit(onB.page, { recovery_code: recoveryCodes[7] });
  const claims = (await toPartner(configB, onB, used)).claims();
  assert.equal(claims.acr, 'eidas2');
  assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);

  const again = await toSecondStep(nodeA, configA, pseudonym);
  const refused = await again.browser.submit(again.page, { recovery_code: recoveryCodes[7] });
  assert.equal(refused.response.status, 401, 'a recovery code works once, on every node');
  assert.equal(alert(refused), SPENT_RECOVERY);
  assert.equal(await signedIn(again.browser), false, 'a spent recovery code opens no session');

  const another = await again.browser.submit(refused, { recovery_code: recoveryCodes[8] });
  assert.equal((await toPartner(configA, again, another)).claims().acr, 'eidas2', 'the other codes are untouched');
});

// The patient who types a recovery code has lost the app: "check your phone's clock" would mislead.
test('recovery code: a spent one is refused with a message about recovery codes, not about the phone clock', async () => {
  const { client_id, client_secret } = await nodeA.addClient('totp-rescue-message', { grants: ['authorization_code'], scopes: ['openid'] });
  const config = await configFor(nodeA, client_id, client_secret);
  const { pseudonym, recoveryCodes } = await enrolled();
  const first = await toSecondStep(nodeA, config, pseudonym);
  await toPartner(config, first, await first.browser.submit(first.page, { recovery_code: recoveryCodes[0] }));

  const again = await toSecondStep(nodeA, config, pseudonym);
  const refused = await again.browser.submit(again.page, { recovery_code: recoveryCodes[0] });

  assert.equal(refused.response.status, 401);
  assert.doesNotMatch(alert(refused), /clock/);
  assert.match(alert(refused), /recovery code/i);
});
