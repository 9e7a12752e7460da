// Starts the real Compliance server (and its CLI) for the interop tests, and plays the patient's browser:
// a cookie jar, manual redirects, and the real HTML forms (antiforgery tokens included). No test-only back door.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const configuration = process.env.COMPLIANCE_CONFIGURATION ?? 'Release';
export const serverDll = process.env.COMPLIANCE_SERVER_DLL ?? join(root, `src/Compliance.Server/bin/${configuration}/net10.0/Compliance.Server.dll`);
export const cliDll = process.env.COMPLIANCE_CLI_DLL ?? join(root, `src/Compliance.Cli/bin/${configuration}/net10.0/compliance.dll`);

export const REDIRECT = 'http://127.0.0.1:5081/callback';
export const POST_LOGOUT = 'http://127.0.0.1:5081/signed-out';

async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

/** A running server on fresh SQLite stores, with its settings, logs and data folder. */
export class ComplianceServer {
  static async start(extraEnv = {}) {
    const port = await freePort();
    const dataDirectory = mkdtempSync(join(tmpdir(), 'compliance-interop-'));
    const issuer = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      ASPNETCORE_ENVIRONMENT: 'Production',
      DOTNET_ENVIRONMENT: 'Production',
      Urls: issuer,
      Oidc__Issuer: issuer,
      Storage__DataDirectory: dataDirectory,
      Oidc__InteractiveRequestsPerMinute: '10000',
      Oidc__TokenRequestsPerSecond: '10000',
      Oidc__AuthorizationCodeLifetimeSeconds: '10',
      Oidc__AllowLoopbackHttpFetch: 'true',
      ...extraEnv,
    };
    const server = new ComplianceServer(port, issuer, dataDirectory, env);
    await server.cli(['migrate']);
    await server.cli(['keys', 'init']); // Production creates the key-encryption key only on purpose.
    server.launch();
    await server.ready();
    return server;
  }

  constructor(port, issuer, dataDirectory, env) {
    Object.assign(this, { port, issuer, dataDirectory, env, logs: '' });
  }

  launch() {
    this.process = spawn('dotnet', [serverDll], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.process.stdout.on('data', (chunk) => { this.logs += chunk; });
    this.process.stderr.on('data', (chunk) => { this.logs += chunk; });
  }

  async ready() {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.process.exitCode !== null) throw new Error(`server exited ${this.process.exitCode}\n${this.logs}`);
      try {
        const response = await fetch(`${this.issuer}/health/ready`);
        if (response.status === 200) return;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`server not ready\n${this.logs}`);
  }

  /**
   * Another node of the same service, as behind a load balancer: its own process and port, the same stores, key
   * file and settings (the same data folder). Stop it with stop(); the first node's cleanup() removes the folder.
   */
  async secondNode(extraEnv = {}) {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const node = new ComplianceServer(port, issuer, this.dataDirectory, { ...this.env, Urls: issuer, Oidc__Issuer: issuer, ...extraEnv });
    node.launch();
    await node.ready();
    return node;
  }

  async cli(args, extraEnv = {}) {
    const { stdout } = await promisify(execFile)('dotnet', [cliDll, ...args], { env: { ...this.env, ...extraEnv } });
    return stdout;
  }

  /** Registers a client through `compliance clients add` and returns its id and secret. */
  async addClient(id, options = {}) {
    const args = ['clients', 'add', '--id', id, '--name', options.name ?? `Partner ${id}`, '--json'];
    for (const uri of options.redirectUris ?? [REDIRECT]) args.push('--redirect-uri', uri);
    for (const uri of options.postLogoutRedirectUris ?? [POST_LOGOUT]) args.push('--post-logout-redirect-uri', uri);
    for (const grant of options.grants ?? ['authorization_code', 'refresh_token']) args.push('--grant', grant);
    for (const scope of options.scopes ?? ['openid', 'offline_access']) args.push('--scope', scope);
    if (options.type) args.push('--type', options.type);
    if (options.auth) args.push('--auth', options.auth);
    if (options.jwks) {
      const file = join(this.dataDirectory, `${id}.jwks.json`);
      writeFileSync(file, JSON.stringify(options.jwks));
      args.push('--jwks', file);
    }
    if (options.requirePar) args.push('--require-par');
    if (options.minAcr) args.push('--min-acr', options.minAcr);
    if (options.idTokenAlg) args.push('--id-token-alg', options.idTokenAlg);
    if (options.sectorIdentifierUri) args.push('--sector-identifier-uri', options.sectorIdentifierUri);
    // The operator states that this client and those already on its sector are one controller (same sub).
    if (options.sharedSector) args.push('--shared-sector');
    if (options.backchannelLogoutUri) args.push('--backchannel-logout-uri', options.backchannelLogoutUri);
    return JSON.parse((await this.cli(args)).trim());
  }

  /** Every byte the service wrote: its stores (with their write-ahead logs) and its logs. */
  persistedBytes() {
    const files = readdirSync(this.dataDirectory).filter((f) => /\.db(-wal|-shm)?$/.test(f));
    return { files: files.map((f) => [f, readFileSync(join(this.dataDirectory, f))]), logs: this.logs };
  }

  async stop() {
    if (this.process && this.process.exitCode === null) {
      this.process.kill('SIGTERM');
      await new Promise((r) => this.process.once('exit', r));
    }
  }

  cleanup() {
    rmSync(this.dataDirectory, { recursive: true, force: true });
  }
}

/** The patient's browser: cookies, manual redirects, and form posts as a real browser sends them. */
export class Browser {
  constructor(issuer, { language = 'fr' } = {}) {
    this.issuer = issuer;
    this.cookies = new Map();
    this.language = language;
  }

  async request(url, { method = 'GET', form } = {}) {
    const headers = { 'accept-language': this.language, accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }; // as a browser asks for a page
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await fetch(new URL(url, this.issuer), { method, headers, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index);
      const value = pair.slice(index + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.cookies.delete(name); else this.cookies.set(name, value);
    }
    return response;
  }

  /**
   * Follows redirects inside the provider; stops at the partner (a URL outside the issuer) or at a page.
   * Returns { url, response, html }.
   */
  async navigate(url, options) {
    let response = await this.request(url, options);
    let current = new URL(url, this.issuer).toString();
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
      current = new URL(response.headers.get('location'), current).toString();
      if (!current.startsWith(this.issuer)) return { url: current, response, html: null };
      response = await this.request(current);
    }
    const html = (response.headers.get('content-type') ?? '').includes('text/html') ? await response.text() : null;
    return { url: current, response, html };
  }

  /** Submits the page's form (the first, or the one whose action matches), with the given fields and button. */
  async submit(page, fields, button) {
    const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(page.html);
    if (!form) throw new Error(`no form on the page:\n${page.html}`);
    const values = {};
    for (const [, name, value] of form[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      values[decode(name)] = decode(value);
    }
    Object.assign(values, fields);
    if (button) Object.assign(values, button);
    return this.navigate(form[1], { method: 'POST', form: values });
  }

  /** Submits the form that holds the element with this id (a page may have several forms), with the given fields. */
  async submitForm(page, id, fields = {}) {
    const form = [...page.html.matchAll(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/g)].find((f) => f[2].includes(`id="${id}"`));
    if (!form) throw new Error(`no form holds #${id}:\n${page.html}`);
    return this.submit({ html: form[0] }, fields);
  }

  /** Signs up through the real page, starting from wherever the provider sent us. */
  async signUp(page, pseudonym, password) {
    const link = /<a id="signup-link" href="([^"]+)"/.exec(page.html);
    const signUpPage = await this.navigate(decode(link[1]));
    return this.submit(signUpPage, { pseudonym, password, password_confirm: password });
  }

  async signIn(page, pseudonym, password) {
    return this.submit(page, { pseudonym, password });
  }

  /** Decides on the consent page; staying signed in (offline_access) is a box the patient ticks, unless `offline` is false. */
  async consent(page, decision = 'allow', { offline = true } = {}) {
    const fields = decision === 'allow' && offline && page.html.includes('name="offline_access"') ? { offline_access: 'yes' } : {};
    return this.submit(page, fields, { decision });
  }
}

function decode(text) {
  return text.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#x2B;', '+').replaceAll('&#x2F;', '/')
    .replaceAll('&#x3D;', '=').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&#39;', "'")
    .replace(/&#x([0-9A-F]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)));
}

let counter = 0;
export function uniquePseudonym(prefix = 'patient') {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
