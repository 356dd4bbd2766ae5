#!/usr/bin/env node
// Runs before `npm start` and `npm test` so a fresh clone needs no other command first:
// installs the locked dependencies when node_modules is missing or older than the lockfile.
const { execSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const lockfile = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');

const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lockfile).mtimeMs;
if (stale) {
  console.log('[stockflow] installing dependencies (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}

// The browser test (test/dashboard.test.ts) drives Debian's chromium; CI runs as root on a fresh
// machine, so install it there. Elsewhere say what is missing rather than ask for a password.
if (process.argv.includes('--browser') && !existsSync('/usr/bin/chromium')) {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!asRoot) {
    console.warn('[stockflow] /usr/bin/chromium is missing and this is not root: install it (apt-get install -y chromium) for the dashboard test');
  } else {
    console.log('[stockflow] installing chromium for the browser test (apt-get)…');
    const install = () => execSync('apt-get install -y --no-install-recommends chromium', { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    try {
      install();
    } catch {
      // A fresh machine's package lists may be missing or stale.
      execSync('apt-get update', { stdio: 'inherit' });
      install();
    }
  }
}
