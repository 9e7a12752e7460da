// Authorization-code exchange rate, for either server.
//
//   node lib/authcode.mjs --target ours|peer|peer-pg --base http://127.0.0.1:PORT --codes N --concurrency C
//                         [--warmup W --warmup-rounds R] [--pid SERVER_PID] [--db-pid POSTMASTER_PID] [--phase both|code|refresh]
//
// 1. Signs in once like a browser (scripted login form, then the consent form) and keeps the session cookie.
// 2. Collects a pool of codes: one GET of the authorization endpoint each, with the session cookie, a fresh PKCE
//    S256 pair, state and nonce; the server answers the redirect with a code at once (untimed).
// 3. Exchanges the whole pool at a fixed concurrency over keep-alive connections (timed): POST token endpoint,
//    grant_type=authorization_code, code, redirect_uri, code_verifier, HTTP Basic. Scope "openid offline_access",
//    consented with the "stay signed in" box ticked, so every exchange also issues a refresh token.
// 4. Uses each of those refresh tokens once, at the same concurrency (timed): grant_type=refresh_token, HTTP Basic.
//    Each use rotates the token, so each writes a new refresh token row.
// Prints one JSON line: { codes, code: { ok, failed, seconds, rps, p50, p99, cpuMs (server CPU per request), sample },
// refresh: { the same }, collectSeconds }. --phase code stops after step 3; --phase refresh times only step 4 (for the
// profiler, which wants one kind of request at a time). --phase sub signs in, exchanges one code and prints only
// { sub }: the demo account's pairwise sub at the demo client, for benchmarks of the partner API (consent.sh).
// Codes live 60 s on both servers, so the pool is sized to be collected and exchanged well inside that.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const target = args.target;
const base = new URL(args.base);
const codes = Number(args.codes ?? 1000);
const concurrency = Number(args.concurrency ?? 32);
const warmup = Number(args.warmup ?? 0);
const warmupRounds = Number(args['warmup-rounds'] ?? 1); // untimed rounds of the whole flow, so that the JIT settles
const phase = args.phase ?? 'both';
const pid = args.pid; // optional: the server's process id, to report its CPU time per exchange (Linux /proc)
const CLK_TCK = 100; // USER_HZ, 100 on every Linux architecture that matters here
const cpuSeconds = () => {
  if (!pid) return null;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14 and 15 of stat)
};

// optional: the PostgreSQL postmaster's pid, to report the database's CPU time per exchange too: the postmaster's own
// and its exited children's (cutime, cstime), plus every live child's (a pooled backend lives through the run).
const dbPid = args['db-pid'];
const statFields = (p) => readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
const dbCpuSeconds = () => {
  if (!dbPid) return null;
  const own = statFields(dbPid);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = statFields(entry);
      if (fields[1] === String(dbPid)) ticks += Number(fields[11]) + Number(fields[12]);
    } catch { /* exited meanwhile: counted in the postmaster's cutime */ }
  }
  return ticks / CLK_TCK;
};

const CLIENT_ID = 'demo-client';
const CLIENT_SECRET = 'demo-client-secret-for-local-tries-only';
const REDIRECT_URI = 'http://127.0.0.1:5081/callback';
const BASIC = 'Basic ' + Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64');
const PASSWORD = 'lavande-orage-2026'; // the Development demo account's (src/Compliance.Oidc/Accounts/DemoSeed.cs)
const paths = target === 'ours'
  ? { authorize: '/connect/authorize', token: '/connect/token' }
  : { authorize: '/auth', token: '/token' };

const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(concurrency, 8) });
const jar = new Map(); // a browser's cookie jar, simplified: by name only (both servers' flows never need two paths at once)

function request(method, pathOrUrl, { headers = {}, body, cookies = false } = {}) {
  const url = new URL(pathOrUrl, base);
  const h = { ...headers };
  if (cookies && jar.size) h.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  if (body !== undefined) {
    h['content-type'] = 'application/x-www-form-urlencoded';
    h['content-length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (cookies) {
          for (const line of res.headers['set-cookie'] ?? []) {
            const [pair, ...attrs] = line.split(';');
            const eq = pair.indexOf('=');
            const name = pair.slice(0, eq).trim();
            const value = pair.slice(eq + 1).trim();
            const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
            if (expired || value === '') jar.delete(name); else jar.set(name, value);
          }
        }
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const decode = (s) => s.replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
  .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
  .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The first POST form of a page: its action and its hidden inputs. */
function form(html, pageUrl) {
  const f = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!f) throw new Error(`no form on ${pageUrl}: ${html.slice(0, 300)}`);
  const action = /action="([^"]*)"/i.exec(f[0])?.[1];
  const fields = {};
  for (const input of f[1].matchAll(/<input\b[^>]*>/gi)) {
    if (!/type="hidden"/i.test(input[0])) continue;
    const name = /name="([^"]*)"/i.exec(input[0])?.[1];
    const value = /value="([^"]*)"/i.exec(input[0])?.[1] ?? '';
    if (name) fields[decode(name)] = decode(value);
  }
  return { action: new URL(decode(action || pageUrl), new URL(pageUrl, base)).toString(), fields };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function authorizeUrl(challenge) {
  const q = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid offline_access',
    state: randomBytes(12).toString('base64url'), nonce: randomBytes(12).toString('base64url'),
    code_challenge: challenge, code_challenge_method: 'S256',
  });
  return `${paths.authorize}?${q}`;
}

const codeOf = (location) => {
  const u = new URL(location, base);
  return u.origin + u.pathname === REDIRECT_URI ? u.searchParams.get('code') : null;
};

/** Follows redirects like a browser until the client's redirect URI (returns the code) or an HTML page. */
async function follow(start) {
  let res = start;
  let url = null;
  for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
    const code = codeOf(res.headers.location);
    if (code) return { code };
    url = new URL(res.headers.location, base).toString();
    res = await request('GET', url, { cookies: true });
  }
  return { page: res, url };
}

/** Signs in and consents once; afterwards the session cookie alone yields codes. */
async function signIn() {
  const { challenge } = pkce();
  let step = await follow(await request('GET', authorizeUrl(challenge), { cookies: true }));
  for (let i = 0; i < 4 && !step.code; i++) {
    const { page, url } = step;
    if (page.status !== 200) throw new Error(`sign-in: ${url} answered ${page.status}: ${page.body.slice(0, 300)}`);
    const { action, fields } = form(page.body, url);
    if (target === 'ours') {
      if (/name="password"/.test(page.body)) Object.assign(fields, { pseudonym: 'demo', password: PASSWORD });
      else Object.assign(fields, { decision: 'allow', offline_access: 'yes' });
    } else if (fields.prompt === 'login') {
      Object.assign(fields, { login: 'demo', password: PASSWORD });
    }
    const res = await request('POST', action, { body: new URLSearchParams(fields).toString(), cookies: true });
    step = await follow(res);
  }
  if (!step.code) throw new Error('sign-in did not end with a code');
}

async function collect(n) {
  const pool = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const { verifier, challenge } = pkce();
      const res = await request('GET', authorizeUrl(challenge), { cookies: true });
      const code = res.status >= 300 && res.status < 400 ? codeOf(res.headers.location) : null;
      if (!code) throw new Error(`authorize answered ${res.status} ${res.headers.location ?? res.body.slice(0, 300)}`);
      pool.push({ code, verifier });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return pool;
}

/** Sends one token request per item of the pool at a fixed concurrency, timed. `body(item)` gives the form. */
async function timed(pool, body) {
  const latencies = [];
  const refreshTokens = [];
  let ok = 0;
  let failed = 0;
  let sample = null;
  let next = 0;
  const worker = async () => {
    while (next < pool.length) {
      const item = pool[next++];
      const t0 = process.hrtime.bigint();
      const res = await request('POST', paths.token, { body: body(item), headers: { authorization: BASIC } });
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (res.status === 200) {
        ok++;
        const json = JSON.parse(res.body);
        if (json.refresh_token) refreshTokens.push(json.refresh_token);
        if (!sample) {
          const header = JSON.parse(Buffer.from(json.access_token.split('.')[0], 'base64url').toString());
          sample = { keys: Object.keys(json).sort(), accessTokenHeader: header };
        }
      } else {
        failed++;
        if (failed <= 3) console.error(`token ${res.status}: ${res.body.slice(0, 200)}`);
      }
    }
  };
  const cpu0 = cpuSeconds();
  const db0 = dbCpuSeconds();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuMs = cpu0 == null || ok === 0 ? null : ((cpuSeconds() - cpu0) * 1000) / ok;
  const dbCpuMs = db0 == null || ok === 0 ? null : ((dbCpuSeconds() - db0) * 1000) / ok;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { result: { ok, failed, seconds, rps: ok / seconds, p50: pct(50), p99: pct(99), cpuMs, dbCpuMs, sample }, refreshTokens };
}

const exchange = (pool) => timed(pool, ({ code, verifier }) =>
  new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString());
const refresh = (tokens) => timed(tokens, (token) =>
  new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString());

await signIn();
if (phase === 'sub') {
  const [{ code, verifier }] = await collect(1);
  const res = await request('POST', paths.token, {
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString(),
    headers: { authorization: BASIC },
  });
  if (res.status !== 200) throw new Error(`token ${res.status}: ${res.body.slice(0, 200)}`);
  const idToken = JSON.parse(res.body).id_token;
  console.log(JSON.stringify({ sub: JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()).sub }));
  agent.destroy();
  process.exit(0);
}
for (let round = 0; warmup > 0 && round < warmupRounds; round++) {
  const { refreshTokens } = await exchange(await collect(warmup));
  await refresh(refreshTokens);
}
const c0 = process.hrtime.bigint();
const pool = await collect(codes);
const collectSeconds = Number(process.hrtime.bigint() - c0) / 1e9;
const out = { target, codes, concurrency, collectSeconds };
if (phase === 'refresh') {
  // Untimed exchanges give the refresh tokens; only the refreshes are measured.
  const { refreshTokens } = await exchange(pool);
  out.refresh = (await refresh(refreshTokens)).result;
} else {
  const { result, refreshTokens } = await exchange(pool);
  out.code = result;
  if (refreshTokens.length < result.ok) throw new Error(`only ${refreshTokens.length} of ${result.ok} exchanges issued a refresh token`);
  if (phase === 'both') out.refresh = (await refresh(refreshTokens)).result;
}
console.log(JSON.stringify(out));
agent.destroy();
