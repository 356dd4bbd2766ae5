import assert from 'node:assert/strict';
import { BatchLanes, lanesPer } from '../services/batch-lanes';

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

/** The end of the current turn of the event loop, when an idle lane runs what it gathered. */
const turn = () => new Promise(setImmediate);

describe('batch lanes', () => {
  it('runs what arrives in one turn as one batch, and gathers what arrives meanwhile into the next, in arrival order', async () => {
    const runner = heldRunner();
    const lanes = new BatchLanes(1, 3, runner.run);
    const burst = [lanes.submit('k', 1), lanes.submit('k', 2)];
    assert.deepEqual(runner.batches, [], 'a lane gathers until the end of the turn');
    await turn();
    assert.deepEqual(runner.batches, [[1, 2]], 'nothing waits for a timer');
    const later = [3, 4, 5, 6].map((n) => lanes.submit('k', n));
    runner.release.shift()?.();
    assert.deepEqual(await Promise.all(burst), [10, 20]);
    await turn();
    assert.deepEqual(runner.batches, [[1, 2], [3, 4, 5]], 'the next batch takes what queued, up to its size');
    runner.release.shift()?.();
    await turn();
    assert.deepEqual(runner.batches, [[1, 2], [3, 4, 5], [6]]);
    runner.release.shift()?.();
    assert.deepEqual(await Promise.all(later), [30, 40, 50, 60]);
  });

  it('starts a full batch at once, without waiting for the turn to end', async () => {
    const runner = heldRunner();
    const lanes = new BatchLanes(1, 3, runner.run);
    const items = [1, 2, 3, 4].map((n) => lanes.submit('k', n));
    assert.deepEqual(runner.batches, [[1, 2, 3]]);
    while (runner.release.length > 0) {
      runner.release.shift()?.();
      await turn();
    }
    assert.deepEqual(runner.batches, [[1, 2, 3], [4]]);
    assert.deepEqual(await Promise.all(items), [10, 20, 30, 40]);
  });

  it("lets a batch's callers go on only after the next batch has sent its first work", async () => {
    // Like a database driver, the runner sends what a batch starts with at the end of the turn.
    const sent: number[][] = [];
    const release: (() => void)[] = [];
    const lanes = new BatchLanes(1, 2, async (items: number[]) => {
      await turn();
      sent.push(items);
      await new Promise<void>((resolve) => release.push(resolve));
      return items;
    });
    const first = lanes.submit('k', 1);
    await turn();
    await turn();
    const second = lanes.submit('k', 2);
    release.shift()?.();
    await first;
    assert.deepEqual(sent, [[1], [2]], 'the second batch went out before the first batch was answered');
    release.shift()?.();
    assert.equal(await second, 2);
  });

  it('fails every item of a failed batch, and only those', async () => {
    const runner = heldRunner();
    const lanes = new BatchLanes(1, 2, runner.run);
    const first = lanes.submit('k', 1);
    await turn();
    const failing = [lanes.submit('k', 2), lanes.submit('k', -1)];
    const after = lanes.submit('k', 3);
    runner.release.shift()?.();
    await first;
    await turn();
    runner.release.shift()?.();
    for (const item of failing) await assert.rejects(item, /the batch failed/);
    await turn();
    runner.release.shift()?.();
    assert.equal(await after, 30);
  });

  it('fails the items of a runner that throws before returning, and goes on with the next batch', async () => {
    const lanes = new BatchLanes(1, 1, (items: number[]) => {
      if (items[0] < 0) throw new Error('thrown at once');
      return Promise.resolve(items);
    });
    const thrown = lanes.submit('k', -1);
    const next = lanes.submit('k', 2);
    await assert.rejects(thrown, /thrown at once/);
    assert.equal(await next, 2);
  });

  it('keeps one key in one lane and lets other lanes run alongside', async () => {
    const runner = heldRunner();
    const lanes = new BatchLanes(16, 10, runner.run);
    const keys = Array.from({ length: 40 }, (_, n) => `sku-${n}`);
    const first = lanes.submit('sku-0', 1);
    await turn();
    const second = lanes.submit('sku-0', 2);
    for (const key of keys.slice(1)) void lanes.submit(key, 100);
    await turn();
    assert.deepEqual(runner.batches[0], [1]);
    assert.ok(!runner.batches.slice(1).some((b) => b.includes(2)), 'the second item of the key waits behind the first');
    assert.ok(runner.batches.length > 1, 'keys of other lanes do not wait');
    while (runner.release.length > 0) {
      runner.release.shift()?.();
      await turn();
    }
    assert.deepEqual(await Promise.all([first, second]), [10, 20]);
  });

  it('tells how many items wait for a batch, down to none when the last is taken up', async () => {
    const runner = heldRunner();
    let backlog = 0;
    const seen: number[] = [];
    const lanes = new BatchLanes(1, 2, runner.run, (delta) => seen.push((backlog += delta)));
    const items = [1, 2, 3, 4, 5].map((n) => lanes.submit('k', n));
    assert.deepEqual(seen, [1, 2, 0, 1, 2, 3], 'the first two fill a batch and are taken up at once; three wait');
    while (runner.release.length > 0) {
      runner.release.shift()?.();
      await turn();
    }
    await Promise.all(items);
    assert.deepEqual(seen.slice(6), [1, 0], 'two taken up, then the last');
  });

  it("keeps one set of lanes per key object, so batches of one database never mix with another's", async () => {
    const ran: string[][] = [];
    const lanesOf = lanesPer((db: { name: string }) => new BatchLanes(1, 10, async (items: string[]) => (ran.push(items.map((i) => `${db.name}:${i}`)), items)));
    const east = { name: 'east' };
    const west = { name: 'west' };
    assert.equal(lanesOf(east), lanesOf(east));
    assert.notEqual(lanesOf(east), lanesOf(west));
    await Promise.all([lanesOf(east).submit('', 'a'), lanesOf(west).submit('', 'b'), lanesOf(east).submit('', 'c')]);
    assert.deepEqual(ran.sort(), [['east:a', 'east:c'], ['west:b']]);
  });
});
