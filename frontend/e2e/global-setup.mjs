// Runs once before the suite: checks the browser is there and provides the
// binary under test (built here unless TICKWATCH_BIN names one).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumPath } from './playwright.config.mjs';
import { repoRoot } from './server.mjs';

export default function globalSetup() {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  if (process.env.TICKWATCH_BIN) {
    if (!existsSync(process.env.TICKWATCH_BIN)) throw new Error(`TICKWATCH_BIN=${process.env.TICKWATCH_BIN} does not exist`);
    return undefined;
  }
  if (!existsSync(join(repoRoot, 'frontend/dist/index.html'))) {
    throw new Error('frontend/dist is missing: run `go tool task spa` first (the binary embeds it)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'tickwatch-e2e-bin-'));
  const bin = join(dir, 'tickwatch');
  console.log('building tickwatch (set TICKWATCH_BIN to skip)…');
  const r = spawnSync('go', ['build', '-o', bin, '.'], { cwd: repoRoot, stdio: 'inherit', timeout: 600_000 });
  if (r.status !== 0) throw new Error('go build failed');
  // Workers inherit the environment that global setup leaves behind.
  process.env.TICKWATCH_BIN = bin;
  return () => rmSync(dir, { recursive: true, force: true });
}
