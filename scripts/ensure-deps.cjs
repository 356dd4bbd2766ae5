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
