// The real tickwatch binary on free loopback ports, on its built-in simulator,
// with one user per role. Used by the worker-scoped `server` fixture.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (also used by the browser benchmark). */
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

function hashPassword(bin, password) {
  const r = spawnSync(bin, ['hash-password'], { input: password + '\n', encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`hash-password failed: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

/**
 * Starts TICKWATCH_BIN (set by global setup) with an admin, a viewer and a
 * plain user, and waits for /healthz. extraEnv overrides the environment
 * (a spec that needs its own settings starts its own server).
 * @returns {Promise<{base: string, sim: string, users: Record<'admin'|'viewer'|'user', {username: string, password: string, role: string}>, logTail: (n?: number) => string, logMark: () => number, logSince: (mark: number) => string, stop: () => Promise<void>}>}
 */
export async function startServer(extraEnv = {}) {
  const bin = process.env.TICKWATCH_BIN;
  if (!bin) throw new Error('TICKWATCH_BIN is not set (global setup provides it)');
  const dir = mkdtempSync(join(tmpdir(), 'tickwatch-e2e-'));
  const users = {
    admin: { username: 'admin', password: randomBytes(12).toString('hex'), role: 'admin' },
    viewer: { username: 'viewer', password: randomBytes(12).toString('hex'), role: 'viewer' },
    user: { username: 'plain', password: randomBytes(12).toString('hex'), role: 'user' },
  };
  const usersFile = join(dir, 'users.json');
  writeFileSync(
    usersFile,
    JSON.stringify([users.viewer, users.user].map((u) => ({ username: u.username, password_hash: hashPassword(bin, u.password), role: u.role }))),
  );
  const httpPort = await freePort();
  const simPort = await freePort();
  const env = { ...process.env };
  // The suite expects demo mode with its three default slots, whatever the shell exports.
  for (const k of Object.keys(env)) if (k.startsWith('MASSIVE_') || k.startsWith('WEBSOCKET_') || k === 'USE_MULTI_CONNECTION') delete env[k];
  Object.assign(env, {
    HTTP_ADDR: `127.0.0.1:${httpPort}`,
    SIM_ADDR: `127.0.0.1:${simPort}`,
    ADMIN_USERNAME: users.admin.username,
    ADMIN_PASSWORD: users.admin.password,
    AUTH_USERS_FILE: usersFile,
    // Its own store: saved runtime changes never leak into the next run or the checkout.
    DATA_DIR: join(dir, 'data'),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  });
  // A spec that needs its own settings (short alert thresholds) starts its own server.
  Object.assign(env, extraEnv);
  const proc = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // The whole log of a run is a few MB at most: kept, so each test can
  // check the lines written while it ran.
  let log = '';
  const keep = (b) => (log += b.toString());
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  let exited = null;
  proc.on('exit', (code, sig) => (exited = { code, sig }));
  const logTail = (n = 4000) => log.slice(-n);

  const base = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`tickwatch exited early (${JSON.stringify(exited)}):\n${logTail(3000)}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`tickwatch did not become healthy:\n${logTail(3000)}`);
    }
    await sleep(100);
  }

  return {
    base,
    sim: `http://127.0.0.1:${simPort}`,
    users,
    logTail,
    /** A position in the log, for logSince. */
    logMark: () => log.length,
    /** The complete lines written since mark. */
    logSince: (mark) => log.slice(mark, log.lastIndexOf('\n') + 1),
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        const t0 = Date.now();
        while (!exited && Date.now() - t0 < 5000) await sleep(50);
        if (!exited) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
