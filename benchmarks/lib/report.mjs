// Turns the raw results of one run.sh into the printed table, results/latest.md and results/latest.json.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] ?? '']);
  return acc;
}, []));
const raw = args.raw;
const stores = args.stores.split(/\s+/).filter(Boolean);
const TARGET = 2;

const read = (name) => {
  const file = join(raw, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
};
// autocannon: successful responses over the run's duration (not the per-second sample mean); latency in whole ms.
const cpuOf = (name, count) => {
  const file = join(raw, `${name}.cpu`);
  if (!existsSync(file) || !count) return null;
  const [ticks, hz] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  return (ticks / hz) * 1000 / count;
};
const cannon = (name, refused = false) => {
  const r = read(name);
  return r && { ...fromCannon(r, refused), cpuMs: cpuOf(name, refused ? r.non2xx : r['2xx']) };
};
const fromCannon = (r, refused = false) => r && {
  rps: (refused ? r.non2xx : r['2xx']) / r.duration, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts, seconds: r.duration,
};
const fromCodes = (r) => r && { rps: r.rps, p50: r.p50, p99: r.p99, ok: r.ok, non2xx: r.failed, errors: 0, seconds: r.seconds, cpuMs: r.cpuMs };

const sh = (cmd, argv) => { try { return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return ''; } };
const pkg = (name) => JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
const cpuModel = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? cpus()[0]?.model ?? 'unknown';
const aspnet = sh('dotnet', ['--list-runtimes']).split('\n').filter((l) => l.startsWith('Microsoft.AspNetCore.App')).map((l) => l.split(' ')[1]).pop();
const head = sh('git', ['-C', args.root, 'rev-parse', '--short', 'HEAD']);
const dirty = sh('git', ['-C', args.root, 'status', '--porcelain', '--', 'src', 'migrations']) !== '';

const results = { ours: {}, peer: {} };
for (const store of stores) {
  results.ours[store] = {
    clientCredentials: cannon(`ours-${store}-token`),
    authorizationCode: fromCodes(read(`ours-${store}-authcode`)),
    clientCredentials1: cannon(`ours-${store}-token1`),
    rejected: cannon(`ours-${store}-rejected`, true),
    healthLive: cannon(`ours-${store}-live`),
  };
}
results.peer = {
  clientCredentials: cannon('peer-token'),
  authorizationCode: fromCodes(read('peer-authcode')),
  clientCredentials1: cannon('peer-token1'),
  rejected: cannon('peer-rejected', true),
};

const storeLabel = {
  sqlite: 'SQLite (embedded default, on disk)',
  'sqlite-tmpfs': 'SQLite on tmpfs (diagnostic: no fsync cost; not a deployment)',
  postgresql: `PostgreSQL ${args.postgres} (durable defaults)`,
};
const REFUSED = 'token request refused (wrong secret, 401)';
const rows = [];
const ratio = (a, b) => (a && b && b.rps > 0 ? a.rps / b.rps : null);
for (const store of stores) {
  const o = results.ours[store];
  rows.push({ scenario: 'client_credentials token', store, ours: o.clientCredentials, peer: results.peer.clientCredentials, target: TARGET });
}
for (const store of stores) {
  const o = results.ours[store];
  rows.push({ scenario: 'authorization_code exchange', store, ours: o.authorizationCode, peer: results.peer.authorizationCode });
}
for (const store of stores) {
  const o = results.ours[store];
  if (o.clientCredentials1) rows.push({ scenario: 'client_credentials token, 1 connection', store, ours: o.clientCredentials1, peer: results.peer.clientCredentials1 });
  if (o.rejected) rows.push({ scenario: REFUSED, store, ours: o.rejected, peer: results.peer.rejected });
  if (o.healthLive) rows.push({ scenario: 'GET /health/live (framework floor)', store, ours: o.healthLive, peer: null });
}
for (const row of rows) row.ratio = ratio(row.ours, row.peer);

const f0 = (x) => (x == null ? '–' : x.toFixed(0));
const f1 = (x) => (x == null ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(1));
const f2 = (x) => (x == null ? '–' : x.toFixed(3));
const fr = (x) => (x == null ? '–' : `${x.toFixed(2)}x`);
const table = [
  '| scenario | our store | ours req/s | ours p50 ms | ours p99 ms | ours CPU ms/req | peer req/s | peer p50 ms | peer p99 ms | peer CPU ms/req | ours/peer req/s |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.scenario} | ${r.store} | ${f0(r.ours?.rps)} | ${f1(r.ours?.p50)} | ${f1(r.ours?.p99)} | ${f2(r.ours?.cpuMs)} | ${f0(r.peer?.rps)} | ${f1(r.peer?.p50)} | ${f1(r.peer?.p99)} | ${f2(r.peer?.cpuMs)} | ${fr(r.ratio)} |`),
];
const failures = rows.filter((r) => (r.ours && (r.ours.errors > 0 || (r.scenario !== REFUSED && r.ours.non2xx > 0)))
  || (r.peer && (r.peer.errors > 0 || (r.scenario !== REFUSED && r.peer.non2xx > 0))))
  .map((r) => `${r.scenario} / ${r.store}: ours non-2xx ${r.ours?.non2xx ?? 0}, errors ${r.ours?.errors ?? 0}; peer non-2xx ${r.peer?.non2xx ?? 0}, errors ${r.peer?.errors ?? 0}`);
const verdicts = rows.filter((r) => r.target).map((r) => `client_credentials on ${r.store}: ${fr(r.ratio)} the peer's throughput, target ${TARGET}x: ${r.ratio >= TARGET ? 'MET' : 'NOT MET'}`);

const date = new Date().toISOString();
const meta = {
  date,
  machine: { nproc: Number(sh('nproc', [])) || cpus().length, cpu: cpuModel, loadavg1mAtStart: Number(args['load-start']) || null, loadavg1mAtEnd: loadavg()[0] },
  versions: {
    compliance: `${head}${dirty ? ' + uncommitted changes in src/ or migrations/' : ''}`,
    aspnetcore: aspnet, dotnetSdk: sh('dotnet', ['--version']), node: process.version,
    oidcProvider: pkg('oidc-provider'), autocannon: pkg('autocannon'), postgresql: args.postgres || null,
  },
  settings: {
    loadGenerator: 'autocannon (one Node process, keep-alive connections, latency in whole ms)',
    connections: Number(args.connections), tokenRunSeconds: Number(args.duration), warmupSeconds: Number(args.warmup),
    sideRunSeconds: Number(args.side), codesPerServer: Number(args.codes), stores,
    order: 'ours (each store in turn), then the peer; one server process at a time, both on 127.0.0.1',
    ours: 'Release publish, ASPNETCORE_ENVIRONMENT=Development (demo client seeded), log level Warning, rate limits raised out of the way',
    peer: 'oidc-provider, NODE_ENV=production, one process, in-memory adapter, ES256 JWT access tokens (resource indicator), devInteractions for the scripted login',
  },
};
writeFileSync(join(args.out, 'latest.json'), JSON.stringify({ ...meta, targetRatio: TARGET, rows, verdicts, failures }, null, 2) + '\n');

const md = `# Token endpoint benchmark: latest run

- date: ${date}
- machine: ${meta.machine.nproc} CPUs, ${meta.machine.cpu} (shared, noisy: compare the ratios, not the absolute figures); load average ${meta.machine.loadavg1mAtStart} at the start, ${meta.machine.loadavg1mAtEnd.toFixed(2)} at the end
- ours: Compliance service ${meta.versions.compliance}, ASP.NET Core ${meta.versions.aspnetcore} (SDK ${meta.versions.dotnetSdk})
- peer: oidc-provider ${meta.versions.oidcProvider} on Node.js ${meta.versions.node}
- load: autocannon ${meta.versions.autocannon}, ${meta.settings.connections} connections, ${meta.settings.warmupSeconds} s warm-up then ${meta.settings.tokenRunSeconds} s measured (side rows ${meta.settings.sideRunSeconds} s); ${meta.settings.codesPerServer} codes exchanged per server at the same concurrency
- order: ${meta.settings.order}

${table.join('\n')}

${verdicts.map((v) => `- **${v}**`).join('\n')}
${failures.length ? `\nRequests that failed (not counted in req/s):\n\n${failures.map((x) => `- ${x}`).join('\n')}\n` : ''}
req/s counts successful responses only (the refused-request row counts the 401 answers, which are what it measures).
p50/p99 are per-request latencies as the load generator saw them. "CPU ms/req" is the user+system CPU time the
server process (all threads) used during the run, divided by the requests it answered: unlike req/s it hardly
depends on what else the machine is doing, and it shows whether a server is busy computing or waiting (for PostgreSQL
it leaves out the database's own processes). See ../README.md for what each row measures and
what the two servers do differently (ours records every access token durably; the peer keeps JWT access tokens
nowhere).
`;
writeFileSync(join(args.out, 'latest.md'), md);

console.log('');
console.log(table.join('\n'));
console.log('');
for (const v of verdicts) console.log(v);
for (const x of failures) console.log(`FAILED REQUESTS: ${x}`);
console.log(`\nwritten: ${join(args.out, 'latest.md')}, ${join(args.out, 'latest.json')}`);
