// Test harness for the browser e2e suite: a tiny sequential runner, the real
// tickwatch binary on free loopback ports, and Chromium via playwright-core.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// ---------------------------------------------------------------- runner

const tests = [];

/** Registers a scenario; they run in order and share one server and browser. */
export function test(name, fn, { timeoutMs = 30_000 } = {}) {
  tests.push({ name, fn, timeoutMs });
}

function withTimeout(p, ms, name) {
  let t;
  const timeout = new Promise((_, rej) => {
    t = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** Runs every registered test; prints "N passed, M failed" last and returns M. */
export async function runAll(ctx) {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    const started = Date.now();
    try {
      await withTimeout(Promise.resolve().then(() => t.fn(ctx)), t.timeoutMs, t.name);
      passed++;
      console.log(`ok   ${t.name} (${Date.now() - started} ms)`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${t.name} (${Date.now() - started} ms)`);
      console.log(`     ${String(err?.stack || err).split('\n').slice(0, 6).join('\n     ')}`);
      await ctx.onFailure?.(t.name).catch(() => {});
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

export function assertEqual(got, want, msg) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${msg}: got ${g}, want ${w}`);
}

// ---------------------------------------------------------------- server

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function hashPassword(bin, password) {
  const r = spawnSync(bin, ['hash-password'], { input: password + '\n', encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`hash-password failed: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

/** Builds (unless TICKWATCH_BIN is set) and starts tickwatch with three users. */
export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'tickwatch-e2e-'));
  let bin = process.env.TICKWATCH_BIN;
  if (!bin) {
    if (!existsSync(join(repoRoot, 'frontend/dist/index.html'))) {
      throw new Error('frontend/dist is missing: run `npm run build` first (the binary embeds it)');
    }
    bin = join(dir, 'tickwatch');
    console.log('building tickwatch (set TICKWATCH_BIN to skip)…');
    const r = spawnSync('go', ['build', '-o', bin, '.'], { cwd: repoRoot, stdio: 'inherit', timeout: 600_000 });
    if (r.status !== 0) throw new Error('go build failed');
  }
  const users = {
    admin: { username: 'admin', password: randomBytes(12).toString('hex'), role: 'admin' },
    viewer: { username: 'viewer', password: randomBytes(12).toString('hex'), role: 'viewer' },
    user: { username: 'plain', password: randomBytes(12).toString('hex'), role: 'user' },
  };
  const usersFile = join(dir, 'users.json');
  writeFileSync(
    usersFile,
    JSON.stringify(
      [users.viewer, users.user].map((u) => ({ username: u.username, password_hash: hashPassword(bin, u.password), role: u.role })),
    ),
  );
  const httpPort = await freePort();
  const simPort = await freePort();
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MASSIVE_') || k.startsWith('WEBSOCKET_') || k === 'USE_MULTI_CONNECTION') delete env[k];
  Object.assign(env, {
    HTTP_ADDR: `127.0.0.1:${httpPort}`,
    SIM_ADDR: `127.0.0.1:${simPort}`,
    ADMIN_USERNAME: users.admin.username,
    ADMIN_PASSWORD: users.admin.password,
    AUTH_USERS_FILE: usersFile,
    DATA_DIR: join(dir, 'data'), // its own store: never the checkout's ./tickwatch-data
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  });
  const logPath = join(dir, 'server.log');
  const proc = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  const keep = (b) => {
    logs.push(b.toString());
    if (logs.length > 400) logs.splice(0, logs.length - 400);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  let exited = null;
  proc.on('exit', (code, sig) => (exited = { code, sig }));

  const base = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`tickwatch exited early (${JSON.stringify(exited)}):\n${logs.join('').slice(-3000)}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`tickwatch did not become healthy:\n${logs.join('').slice(-3000)}`);
    await sleep(100);
  }

  return {
    base,
    sim: `http://127.0.0.1:${simPort}`,
    users,
    logs,
    logPath,
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        const t0 = Date.now();
        while (!exited && Date.now() - t0 < 5000) await sleep(50);
        if (!exited) proc.kill('SIGKILL');
      }
      writeFileSync(logPath, logs.join(''));
      rmSync(dir, { recursive: true, force: true });
    },
    killNow() {
      if (!exited) proc.kill('SIGKILL');
    },
  };
}

// ---------------------------------------------------------------- browser

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** Records console errors, CSP violations and uncaught page errors of every page in a context. */
export function watchConsole(context, sink) {
  context.on('page', (page) => attach(page, sink));
  for (const p of context.pages()) attach(p, sink);
}

function attach(page, sink) {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') sink.push({ kind: m.type(), text: m.text(), url: page.url() });
  });
  page.on('pageerror', (e) => sink.push({ kind: 'pageerror', text: String(e?.message || e), url: page.url() }));
}

/** Collects securitypolicyviolation events in the page itself (not subject to CSP: injected over CDP). */
export async function recordCspViolations(context) {
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
}
