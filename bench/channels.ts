import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { addToCatalogue } from '../db/catalogue';
import { registerChannel } from '../db/channels';
import { connect, type Database } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { applyStockOperation } from '../db/stock';
import { publishedFigure } from '../domain/channel-figure';
import { BufferRules, ChannelRegistration } from '../schemas/channels';
import { StockOperation } from '../schemas/stock';
import { ensureChannelSync } from '../services/channels';
import { WebhookReceiver, type ReceivedFigure } from '../test/contract/webhook-receiver';
import { bundleWorkflows, createWorker } from '../workers/worker';
import { fmt, median, percentile, startBenchApp } from './common';

const SKUS = 1_000;
const MOVEMENTS = 20_000;
const CLIENTS = 32;
const RUNS = 3;
const LOCATION = 'BENCH';
const QUEUE = 'bench-channels';
const SECRET = 'bench-channel-secret';
const TARGET_P99_MS = 3_000;
const DRAIN_TIMEOUT_MS = 180_000;

const CHANNELS = [
  { id: 'bench-a', buffer: { share: 1 } },
  { id: 'bench-b', buffer: { share: 0.9, safety: 2 } },
];

interface LedgerRun {
  seconds: number;
  perSecond: number;
}

interface ChannelFigures {
  channel: string;
  latencies: number[];
  pushes: number;
  changes: number;
  missed: number;
  outOfOrder: number;
}

/**
 * Channel sync under full ledger load: 20,000 movements over 1,000 SKUs from 32 clients, with two
 * webhook channels attached (real adapter, loopback receivers that check signatures and count
 * figures arriving out of order). Per channel: commit → acknowledged latency (from the outbox
 * row's statement clock to the receiver accepting a figure whose version covers it), pushes per
 * change, missed changes (never covered, or a final figure that is wrong) and out-of-order
 * figures. Baselines in the same run, on the same database: the same movements with no channel
 * attached, and with the outbox trigger disabled; the ratios are the ledger's throughput with
 * channels (and with the trigger alone) over the trigger-less ledger's.
 */
export async function benchChannels(databaseUrl: string): Promise<boolean> {
  process.env.STOCKFLOW_BENCH_CHANNEL_SECRET = SECRET;
  const bench = await startBenchApp(databaseUrl, { taskQueue: QUEUE });
  const load = connect(databaseUrl, { max: CLIENTS });
  const receivers = CHANNELS.map(() => new WebhookReceiver(SECRET));
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    const skus = Array.from({ length: SKUS }, (_, i) => `BCH-${String(i).padStart(4, '0')}`);
    await seed(load, skus);
    console.log(`${fmt(MOVEMENTS)} movements over ${fmt(SKUS)} SKUs from ${CLIENTS} clients per run; ${RUNS} runs per mode`);

    const withoutTrigger: LedgerRun[] = [];
    const withoutChannels: LedgerRun[] = [];
    for (let run = 0; run < RUNS; run++) {
      await setTrigger(load, false);
      withoutTrigger.push(await runMovements(load, skus, `off/${run}`));
      await setTrigger(load, true);
      withoutChannels.push(await runMovements(load, skus, `bare/${run}`));
    }

    Runtime.install({ logger: new DefaultLogger('ERROR') });
    worker = await createWorker({ ...(await bench.app.workerOptions()), workflowBundle: await bundleWorkflows() });
    running = worker.run();
    const urls = await Promise.all(receivers.map((r) => r.start()));
    for (const [i, channel] of CHANNELS.entries()) {
      await registerChannel(
        load.db,
        ChannelRegistration.parse({
          id: channel.id,
          kind: 'webhook',
          name: channel.id,
          locations: [LOCATION],
          settings: { url: urls[i] },
          secretRef: 'env:STOCKFLOW_BENCH_CHANNEL_SECRET',
          buffer: channel.buffer,
          skus: skus.map((sku) => ({ sku, externalId: sku })),
        }),
      );
      await ensureChannelSync(bench.app.client, QUEUE, channel.id);
    }
    await drained(load, receivers, 0);

    const withChannels: LedgerRun[] = [];
    const figures: ChannelFigures[][] = [];
    for (let run = 0; run < RUNS; run++) {
      const [{ from }] = await load.sql<{ from: number }[]>`SELECT coalesce(max(seq), 0)::float8 AS from FROM availability_changes`;
      const received = receivers.map((r) => r.received.length);
      const outOfOrder = receivers.map((r) => r.outOfOrder);
      withChannels.push(await runMovements(load, skus, `channels/${run}`));
      await drained(load, receivers, from);
      figures.push(await measure(load, receivers, from, received, outOfOrder));
    }

    const rate = (runs: LedgerRun[]) => median(runs.map((r) => r.perSecond));
    const base = rate(withoutTrigger);
    console.log(
      [
        `ledger, no outbox trigger       ${fmt(base)} movements/s (median)`,
        `ledger + outbox, no channel     ${fmt(rate(withoutChannels))} movements/s, ratio ${(rate(withoutChannels) / base).toFixed(2)}`,
        `ledger + outbox, two channels   ${fmt(rate(withChannels))} movements/s, ratio ${(rate(withChannels) / base).toFixed(2)}`,
      ].join('\n'),
    );
    let held = true;
    for (const [c, channel] of CHANNELS.entries()) {
      const perRun = figures.map((f) => f[c]);
      const p50 = median(perRun.map((f) => percentile(f.latencies, 0.5)));
      const p99 = median(perRun.map((f) => percentile(f.latencies, 0.99)));
      const pushesPerChange = median(perRun.map((f) => f.pushes / f.changes));
      const missed = perRun.reduce((sum, f) => sum + f.missed, 0);
      const outOfOrder = perRun.reduce((sum, f) => sum + f.outOfOrder, 0);
      console.log(
        `${channel.id}  commit → acknowledged p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms (target < ${fmt(TARGET_P99_MS)}) ${p99 < TARGET_P99_MS ? 'met' : 'NOT met'}; ` +
          `${pushesPerChange.toFixed(3)} pushes per change (${fmt(median(perRun.map((f) => f.changes)))} changes per run); missed ${missed}; out of order ${outOfOrder}`,
      );
      held &&= missed === 0 && outOfOrder === 0;
    }
    return held;
  } finally {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await Promise.all(receivers.map((r) => r.stop()));
    await load.close();
    await bench.stop();
  }
}

async function seed(load: Database, skus: string[]): Promise<void> {
  await addToCatalogue(load.db, { locations: [{ code: LOCATION, name: 'Benchmark' }], items: [{ name: 'Bench', skus: skus.slice(0, 500) }, { name: 'Bench 2', skus: skus.slice(500) }] });
  await replaceOwnership(load.db, {
    owners: [{ id: 'bench', name: 'Bench', contact: 'bench@example.com' }],
    rules: [{ owner: 'bench', backup: 'bench', escalation: 'bench', ackSla: '1h', resolutionSla: '1d' }],
  });
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, lane) => {
      for (let i = lane; i < skus.length; i += CLIENTS) {
        await applyStockOperation(load.db, StockOperation.parse({ kind: 'receive', idempotencyKey: `seed/${skus[i]}`, sku: skus[i], location: LOCATION, quantity: 100_000 }));
      }
    }),
  );
}

function setTrigger(load: Database, on: boolean) {
  const action = on ? 'ENABLE' : 'DISABLE';
  return load.sql.unsafe(`ALTER TABLE stock_balances ${action} TRIGGER stock_balances_availability_updated, ${action} TRIGGER stock_balances_availability_inserted`);
}

/** The movements at full speed: receipts and issues of a few units, SKUs spread evenly, from every client at once. */
async function runMovements(load: Database, skus: string[], label: string): Promise<LedgerRun> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < MOVEMENTS; i = next++) {
        const sku = skus[(i * 7919) % SKUS];
        const op = i % 3 === 0 ? { kind: 'issue', quantity: 1 + (i % 2) } : { kind: 'receive', quantity: 1 + (i % 3) };
        await applyStockOperation(load.db, StockOperation.parse({ ...op, idempotencyKey: `bench/${label}/${i}`, sku, location: LOCATION }));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { seconds, perSecond: MOVEMENTS / seconds };
}

/** Waits until both channels were sent a figure covering every change after `from` (bounded: a miss is counted, not waited for forever). */
async function drained(load: Database, receivers: WebhookReceiver[], from: number): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  const last = await load.sql<{ sku: string; seq: number }[]>`
    SELECT v.sku, max(c.seq)::float8 AS seq FROM availability_changes c JOIN variants v ON v.id = c.variant_id WHERE c.seq > ${from} GROUP BY v.sku`;
  while (Date.now() < deadline) {
    if (receivers.every((r) => last.every(({ sku, seq }) => (r.latest.get(sku)?.version ?? 0) >= seq))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function measure(load: Database, receivers: WebhookReceiver[], from: number, receivedBefore: number[], outOfOrderBefore: number[]): Promise<ChannelFigures[]> {
  const changes = await load.sql<{ sku: string; seq: number; changedAt: number }[]>`
    SELECT v.sku, c.seq::float8 AS seq, (extract(epoch FROM c.changed_at) * 1000)::float8 AS "changedAt"
    FROM availability_changes c JOIN variants v ON v.id = c.variant_id WHERE c.seq > ${from} ORDER BY c.seq`;
  const balances = await load.sql<{ sku: string; available: number }[]>`
    SELECT v.sku, b.available FROM stock_balances b JOIN variants v ON v.id = b.variant_id`;
  return CHANNELS.map((channel, c) => {
    const receiver = receivers[c];
    const bySku = new Map<string, ReceivedFigure[]>();
    for (const figure of receiver.received.slice(receivedBefore[c])) bySku.set(figure.sku, [...(bySku.get(figure.sku) ?? []), figure]);
    const latencies: number[] = [];
    let missed = 0;
    for (const change of changes) {
      const covering = bySku.get(change.sku)?.find((f) => f.version >= change.seq);
      if (covering) latencies.push(covering.at - change.changedAt);
      else missed++;
    }
    const rules = BufferRules.parse(channel.buffer);
    for (const { sku, available } of balances) {
      if (receiver.latest.get(sku)?.available !== publishedFigure(rules, { sku, tags: [], available, blocked: false, archived: false })) missed++;
    }
    return {
      channel: channel.id,
      latencies,
      pushes: receiver.received.length - receivedBefore[c],
      changes: changes.length,
      missed,
      outOfOrder: receiver.outOfOrder - outOfOrderBefore[c],
    };
  });
}
