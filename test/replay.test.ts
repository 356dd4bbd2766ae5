import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import * as workflows from '../workflows';
import { infra } from './harness';

const HISTORIES_DIR = path.join(__dirname, 'fixtures', 'histories');

/**
 * Recorded histories of every workflow must replay against the current code: a change that would
 * break workflows already running in production fails here. Re-record with
 * `npm run record-histories` only for a deliberate, versioned change.
 */
describe('workflow replay', () => {
  const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json'));

  it('has a recorded history for every workflow', () => {
    const recorded = new Set(files.map((f) => f.split('-')[0]));
    const missing = Object.keys(workflows).filter((name) => !recorded.has(name));
    assert.deepEqual(missing, [], `record histories for: ${missing.join(', ')}`);
  });

  it('replays every recorded history without a determinism error', async () => {
    const histories = files.map((file) => JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as { workflowId: string; history: unknown });
    const results = Worker.runReplayHistories({ workflowBundle: infra().bundle }, histories);
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of results) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.equal(replayed, files.length);
    assert.deepEqual(failures, []);
  });
});
