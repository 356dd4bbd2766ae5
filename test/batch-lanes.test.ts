import assert from 'node:assert/strict';
import { BatchLanes } from '../services/batch-lanes';

/** A batch runner whose batches end only when the test says so, recording what each batch held. */
function heldRunner() {
  const batches: number[][] = [];
  const release: (() => void)[] = [];
  const run = async (items: number[]) => {
    batches.push(items);
    await new Promise<void>((resolve) => release.push(resolve));
    if (items.includes(-1)) throw new Error('the batch failed');
    return items.map((n) => n * 10);
  };
  return { batches, release, run };
}

describe('batch lanes', () => {
  it('runs a lone item at once and gathers what arrives meanwhile into the next batch, in arrival order', async () => {
    const runner = heldRunner();
    const lanes = new BatchLanes(1, 3, runner.run);
    const first = lanes.submit('k', 1);
    assert.deepEqual(runner.batches, [[1]], 'nothing waits for a timer');
    const later = [2, 3, 4, 5].map((n) => lanes.submit('k', n));
    runner.release.shift()?.();
    assert.equal(await first, 10);
    await Promise.resolve();
    assert.deepEqual(runner.batches, [[1], [2, 3, 4]], 'the next batch takes what queued, up to its size');
    runner.release.shift()?.();
    await Promise.resolve();
    await new Promise(setImmediate);
    assert.deepEqual(runner.batches, [[1], [2, 3, 4], [5]]);
    runner.release.shift()?.();
    assert.deepEqual(await Promise.all(later), [20, 30, 40, 50]);
  });

  it('fails every item of a failed batch, and only those', async () => {
    const runner = heldRunner();
    const lanes = new BatchLanes(1, 2, runner.run);
    const first = lanes.submit('k', 1);
    const failing = [lanes.submit('k', 2), lanes.submit('k', -1)];
    const after = lanes.submit('k', 3);
    runner.release.shift()?.();
    await first;
    await new Promise(setImmediate);
    runner.release.shift()?.();
    for (const item of failing) await assert.rejects(item, /the batch failed/);
    await new Promise(setImmediate);
    runner.release.shift()?.();
    assert.equal(await after, 30);
  });

  it('keeps one key in one lane and lets other lanes run alongside', async () => {
    const runner = heldRunner();
    const lanes = new BatchLanes(16, 10, runner.run);
    const keys = Array.from({ length: 40 }, (_, n) => `sku-${n}`);
    const sameKey = [lanes.submit('sku-0', 1), lanes.submit('sku-0', 2)];
    assert.deepEqual(runner.batches, [[1]], 'the second item of the key waits behind the first');
    for (const key of keys.slice(1)) void lanes.submit(key, 100);
    assert.ok(runner.batches.length > 1, 'keys of other lanes do not wait');
    while (runner.release.length > 0) {
      runner.release.shift()?.();
      await new Promise(setImmediate);
    }
    assert.deepEqual(await Promise.all(sameKey), [10, 20]);
  });

  it('tells how many items wait behind a running batch, down to none when the last is taken up', async () => {
    const runner = heldRunner();
    let backlog = 0;
    const seen: number[] = [];
    const lanes = new BatchLanes(1, 2, runner.run, (delta) => seen.push((backlog += delta)));
    const items = [1, 2, 3, 4].map((n) => lanes.submit('k', n));
    assert.deepEqual(seen, [1, 0, 1, 2, 3], 'the first is taken up at once; three wait');
    while (runner.release.length > 0) {
      runner.release.shift()?.();
      await new Promise(setImmediate);
    }
    await Promise.all(items);
    assert.deepEqual(seen.slice(5), [1, 0], 'two taken up, then the last');
  });
});

