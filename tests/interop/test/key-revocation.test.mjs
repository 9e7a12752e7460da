// Revoking a compromised token signing key, as an operator does with `compliance keys revoke-signing-key`, against
// two real server processes sharing one store: the key leaves both nodes' JWKS within the documented 10 seconds,
// tokens it signed stop working at userinfo and introspection, and a new key signs at once. Driven by openid-client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import { ComplianceServer, Browser, REDIRECT, uniquePseudonym } from '../harness.mjs';

const PASSWORD = 'correct horse battery staple 42';
const DOCUMENTED_SECONDS = 10;
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

async function signedInTokens() {
  const { client_id, client_secret } = await nodeA.addClient(`revocation-${Date.now()}`);
  const config = await client.discovery(new URL(nodeA.issuer), client_id, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(client_secret), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const parameters = {
    redirect_uri: REDIRECT, scope: 'openid', state: client.randomState(), nonce: client.randomNonce(),
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  };
  const browser = new Browser(nodeA.issuer, { language: 'en' });
  let page = await browser.navigate(client.buildAuthorizationUrl(config, parameters).toString());
  page = await browser.signUp(page, uniquePseudonym('revocation'), PASSWORD);
  if (page.html?.includes('id="allow"')) page = await browser.consent(page, 'allow');
  const tokens = await client.authorizationCodeGrant(config, new URL(page.url), {
    pkceCodeVerifier: verifier, expectedState: parameters.state, expectedNonce: parameters.nonce, idTokenExpected: true,
  });
  return { config, tokens, sub: tokens.claims().sub };
}

const kids = async (node) => (await (await fetch(`${node.issuer}/.well-known/jwks.json`)).json()).keys.map((k) => k.kid);

test('a revoked signing key leaves both nodes\' JWKS within 10 s; its tokens fail at userinfo and introspection; a new key signs at once', async (t) => {
  const { config, tokens, sub } = await signedInTokens();
  const { kid } = jose.decodeProtectedHeader(tokens.access_token);
  assert.deepEqual(await client.fetchUserInfo(config, tokens.access_token, sub), { sub });
  assert.ok((await kids(nodeB)).includes(kid), 'node B publishes the key before');
  const jwks = await fetch(`${nodeB.issuer}/.well-known/jwks.json`);
  assert.equal(jwks.headers.get('cache-control'), 'public, max-age=60', 'the README tells partners how long a cached JWKS may keep a revoked key');

  const revokedAt = Date.now();
  const output = await nodeA.cli(['keys', 'revoke-signing-key', kid]);
  assert.match(output, new RegExp(`Revoked the ES256 signing key ${kid}`));
  const replacement = /It was signing: (\S+) signs from now on/.exec(output)?.[1];
  assert.ok(replacement && replacement !== kid);

  let gone = null;
  while (Date.now() - revokedAt < (DOCUMENTED_SECONDS + 5) * 1000) {
    const [a, b] = await Promise.all([kids(nodeA), kids(nodeB)]);
    if (!a.includes(kid) && !b.includes(kid)) { gone = (Date.now() - revokedAt) / 1000; break; }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.ok(gone !== null && gone <= DOCUMENTED_SECONDS + 1, `the key left both JWKS after ${gone ?? 'more than 15'} s`);
  t.diagnostic(`the revoked key left both JWKS ${gone} s after the command`);
  assert.ok((await kids(nodeB)).includes(replacement), 'the replacement is published');

  const userinfo = await fetch(config.serverMetadata().userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(userinfo.status, 401);
  assert.match(userinfo.headers.get('www-authenticate') ?? '', /invalid_token/);
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);

  const after = await signedInTokens();
  assert.equal(jose.decodeProtectedHeader(after.tokens.access_token).kid, replacement, 'the new key signs');
  assert.deepEqual(await client.fetchUserInfo(after.config, after.tokens.access_token, after.sub), { sub: after.sub });
});
