// The key-encryption key escrow is a standard JWE (RFC 7516): an operator can open it with any JOSE library and
// their private key, without this service. Here `jose` opens what `compliance keys export-escrow` wrote.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import { ComplianceServer } from '../harness.mjs';

let server;
before(async () => { server = await ComplianceServer.start(); });
after(async () => { await server.stop(); server.cleanup(); });

test('the escrow opens with jose and the operator\'s private key, and holds exactly the local key file\'s key', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const recipient = join(server.dataDirectory, 'operator.pub.pem');
  writeFileSync(recipient, publicKey.export({ type: 'spki', format: 'pem' }));
  const out = join(server.dataDirectory, 'escrow.jwe');

  await server.cli(['keys', 'export-escrow', '--recipient', recipient, '--out', out]);

  const jwe = readFileSync(out, 'utf8');
  const header = jose.decodeProtectedHeader(jwe);
  assert.equal(header.alg, 'RSA-OAEP-256');
  assert.equal(header.enc, 'A256GCM');
  const { plaintext } = await jose.compactDecrypt(jwe, createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })));
  const escrow = JSON.parse(new TextDecoder().decode(plaintext));
  assert.equal(escrow.format, 'compliance-kek-escrow/1');
  assert.equal(escrow.keks.length, 1);
  assert.equal(escrow.keks[0].custody, 'local-file');
  assert.match(escrow.keks[0].kek_id, /^local:[0-9a-f]{24}$/);
  const keyFile = readFileSync(join(server.dataDirectory, 'kek.key'), 'ascii').split('\n')[1];
  assert.equal(escrow.keks[0].key, keyFile, 'the escrow holds the key the node uses');
});
