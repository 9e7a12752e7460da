// Password sign-in under attack, and password rules at sign-up, against the real server over HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ComplianceServer, Browser, uniquePseudonym } from '../harness.mjs';

const PASSWORD = 'correct horse battery staple 42';
const MAX_FAILED = 5;
let server;

before(async () => { server = await ComplianceServer.start({ Oidc__MaxFailedSignIns: String(MAX_FAILED) }); });
after(async () => { await server.stop(); server.cleanup(); });

const decode = (text) => text.replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
  .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec))).replaceAll('&quot;', '"').replaceAll('&amp;', '&');
const alert = (page) => decode(/<p class="alert" role="alert">([^<]*)<\/p>/.exec(page.html ?? '')?.[1] ?? '');
const checkedPasswords = () => (server.logs.match(/"EventId":2002,/g) ?? []).length;

async function signedUp(prefix) {
  const pseudonym = uniquePseudonym(prefix);
  const browser = new Browser(server.issuer);
  const page = await browser.navigate('/account/login');
  const done = await browser.signUp(page, pseudonym, PASSWORD);
  assert.equal(done.response.status, 200, 'signed up and shown the account page');
  return pseudonym;
}

test('lockout: 20 wrong passwords at once check at most the allowed number, then even the right password is refused', async () => {
  const pseudonym = await signedUp('parallel');
  const before = checkedPasswords();
  const attackers = Array.from({ length: 20 }, () => new Browser(server.issuer, { language: 'en' }));
  const pages = await Promise.all(attackers.map((b) => b.navigate('/account/login')));

  const answers = await Promise.all(attackers.map((b, i) => b.submit(pages[i], { pseudonym, password: `wrong password ${i}` })));

  assert.ok(answers.every((a) => [401, 429].includes(a.response.status)), answers.map((a) => a.response.status).join(','));
  assert.ok(answers.filter((a) => a.response.status === 401).length <= MAX_FAILED);
  await new Promise((r) => setTimeout(r, 200)); // let the log lines arrive
  const checked = checkedPasswords() - before;
  assert.ok(checked >= 1 && checked <= MAX_FAILED, `${checked} passwords were checked`);
  const right = await attackers[0].submit(pages[0], { pseudonym, password: PASSWORD });
  assert.equal(right.response.status, 429);
  assert.equal(alert(right), 'Too many attempts for this pseudonym: for your safety, signing in is blocked for 15 minutes. Try again after that.');
  assert.equal(right.response.headers.get('retry-after'), '900');
});

test('lockout: an unknown pseudonym gets the same answers as an existing one, in similar time', async () => {
  const existing = await signedUp('existing');
  const unknown = uniquePseudonym('nobody');
  const results = {};
  for (const pseudonym of [existing, unknown]) {
    const browser = new Browser(server.issuer);
    const page = await browser.navigate('/account/login');
    results[pseudonym] = [];
    for (let attempt = 0; attempt < MAX_FAILED + 2; attempt++) {
      const started = performance.now();
      const answer = await browser.submit(page, { pseudonym, password: 'not the password at all' });
      results[pseudonym].push({ status: answer.response.status, alert: alert(answer), retryAfter: answer.response.headers.get('retry-after'), ms: performance.now() - started });
    }
  }

  const shape = (list) => list.map(({ status, alert: text, retryAfter }) => `${status} ${text} ${retryAfter}`);
  assert.deepEqual(shape(results[unknown]), shape(results[existing]));
  assert.deepEqual(results[existing].map((r) => r.status), [...Array(MAX_FAILED).fill(401), 429, 429]);
  assert.equal(results[existing].at(-1).alert, "Trop d'essais pour ce pseudonyme : par sécurité, la connexion est bloquée pendant 15 minutes. Réessayez après ce délai.");
  assert.equal(results[existing].at(-1).retryAfter, '900');
  const median = (list) => list.map((r) => r.ms).sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const [a, b] = [median(results[existing].slice(0, MAX_FAILED)), median(results[unknown].slice(0, MAX_FAILED))];
  assert.ok(Math.max(a, b) < 4 * Math.min(a, b) + 50, `existing ${a.toFixed(1)} ms, unknown ${b.toFixed(1)} ms`);
});

test('sign-up: common passwords and passwords containing the pseudonym are refused with a clear message, in French and English', async () => {
  const cases = [
    { language: 'fr', password: 'motdepasse123', message: /^Ce mot de passe est trop courant/ },
    { language: 'en', password: 'azertyuiop12', message: /^This password is too common/ },
    { language: 'en', password: '123456789012', message: /^This password is too common/ },
    { language: 'en', password: 'P@ssw0rd2024!', message: /^This password is too common/ },
    { language: 'fr', password: null, message: /^Le mot de passe ne doit pas contenir le pseudonyme/ },
    { language: 'en', password: null, message: /^The password must not contain the pseudonym/ },
  ];
  for (const { language, password, message } of cases) {
    const pseudonym = uniquePseudonym('weak');
    const browser = new Browser(server.issuer, { language });
    const page = await browser.navigate('/account/signup');
    const chosen = password ?? `${pseudonym.toUpperCase()} under the violet sky`;
    const answer = await browser.submit(page, { pseudonym, password: chosen, password_confirm: chosen });
    assert.equal(answer.response.status, 400, `${chosen} was accepted`);
    assert.match(alert(answer), message);
  }

  const browser = new Browser(server.issuer);
  const page = await browser.navigate('/account/signup');
  const accepted = await browser.submit(page, { pseudonym: uniquePseudonym('strong'), password: PASSWORD, password_confirm: PASSWORD });
  assert.equal(accepted.response.status, 200, 'a passphrase is accepted');
});
