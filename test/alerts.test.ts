import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { alertException, breachesOf, digestText } from '../domain/alerts';
import { AlertRule, AlertRules } from '../schemas/alerts';
import { EnvConfig } from '../schemas/config';
import type { Kpis } from '../schemas/kpis';
import { computeKpis } from '../services/kpis';
import type { kpiAlertCheck, ownerDigest } from '../workflows/kpi-alerts';
import { createTestDatabase, infra, startTestWorker, type RunningWorker } from './harness';
import { seedKpiHistory } from './kpi-history';

const rule = (fields: Record<string, unknown>) => AlertRule.parse({ playbook: 'look at it', ...fields });

describe('KPI alerts and the daily digest', () => {
  describe('rules (domain)', () => {
    it('reads STOCKFLOW_ALERTS as a JSON array of rules and names what is wrong', () => {
      assert.deepEqual(EnvConfig.parse({}).STOCKFLOW_ALERTS, []);
      const parsed = EnvConfig.parse({ STOCKFLOW_ALERTS: '[{"id":"backlog-ivy","kpi":"exceptionBacklog","owner":"ivy","over":10,"playbook":"Triage the oldest first."}]' });
      assert.deepEqual(parsed.STOCKFLOW_ALERTS[0], {
        id: 'backlog-ivy',
        kpi: 'exceptionBacklog',
        owner: 'ivy',
        over: 10,
        measure: 'units',
        window: 86400,
        severity: 'high',
        playbook: 'Triage the oldest first.',
      });
      const notJson = EnvConfig.safeParse({ STOCKFLOW_ALERTS: '[{' });
      assert.equal(notJson.success, false);
      assert.deepEqual(notJson.error?.issues[0].path, ['STOCKFLOW_ALERTS']);
      assert.match(notJson.error?.issues[0].message ?? '', /^must be a JSON array of alert rules: /);
      assert.equal(AlertRules.safeParse([rule({ id: 'a', kpi: 'slaBreaches', over: 1 }), rule({ id: 'a', kpi: 'slaBreaches', over: 2 })]).success, false);
    });

    it('finds each breach, per source where the rule names none, and words the exception with its playbook', () => {
      const k = {
        exceptionBacklog: { rows: [{ owner: 'ivy', open: 2, acknowledged: 1 }, { owner: 'rita', open: 5, acknowledged: 0 }] },
        slaBreaches: { total: 1 },
        revenueAtRisk: { units: 125, value: null },
        failedUpdateRate: [
          { source: 'supplier:acme', rate: 0.5 },
          { source: 'channel:shop', rate: 0.1 },
          { source: 'supplier:idle', rate: null },
        ],
      } as unknown as Kpis;
      assert.deepEqual(breachesOf(rule({ id: 'b', kpi: 'exceptionBacklog', owner: 'ivy', over: 2 }), k).map((b) => b.value), [3]);
      assert.deepEqual(breachesOf(rule({ id: 'b', kpi: 'exceptionBacklog', owner: 'ivy', over: 3 }), k), []);
      assert.deepEqual(breachesOf(rule({ id: 'r', kpi: 'revenueAtRisk', over: 100 }), k).map((b) => b.value), [125]);
      assert.deepEqual(breachesOf(rule({ id: 'r', kpi: 'revenueAtRisk', measure: 'value', over: 0 }), k), [], 'no prices, no money breach');
      const failing = breachesOf(rule({ id: 'f', kpi: 'failedUpdateRate', over: 0.05, playbook: 'Call the supplier.' }), k);
      assert.deepEqual(failing.map((b) => b.scope), ['supplier:acme', 'channel:shop']);
      assert.deepEqual(alertException(failing[0]), {
        type: 'kpi_alert',
        subject: 'kpi:f/supplier:acme',
        severity: 'high',
        summary: 'KPI alert f: failedUpdateRate (supplier:acme) is 50.0%, over 5.0%. Playbook: Call the supplier.',
        source: 'kpi-alerts',
        supplierId: 'acme',
        context: { rule: 'f', kpi: 'failedUpdateRate', value: 0.5, threshold: 0.05, windowSeconds: 86400, playbook: 'Call the supplier.' },
      });
      assert.equal(alertException({ rule: rule({ id: 'long', kpi: 'slaBreaches', over: 0, playbook: 'x'.repeat(600) }), value: 1 }).summary.length, 300);
    });

    it('writes a digest that says what is open, what breached and what changed', () => {
      const text = digestText('2026-03-01', { ownerName: 'Ivy', open: 2, acknowledged: 1, breached: 1, openedToday: 3, resolvedToday: 1, oldest: [{ type: 'ledger_delta', subject: 'a', openedAt: '2026-02-28T10:00:00Z' }] });
      assert.match(text, /Daily digest for Ivy, 2026-03-01/);
      assert.match(text, /Open: 3 \(2 not yet acknowledged\)\. SLA breaches in the last day: 1\./);
      assert.match(text, /3 opened, 1 resolved/);
      assert.match(text, /ledger_delta a \(since 2026-02-28T10:00:00Z\)/);
    });
  });

  describe('on a schedule (workflows)', () => {
    let database: Database;
    let worker: RunningWorker;
    let webhook: Server;
    const posted: { headers: IncomingHttpHeaders; body: { text: string; digest: { owner: { id: string } } } }[] = [];
    const logged: string[] = [];
    const rules = AlertRules.parse([
      { id: 'backlog-ivy', kpi: 'exceptionBacklog', owner: 'ivy', over: 2, playbook: 'Triage the oldest first; reassign what is not yours.' },
      { id: 'updates-failing', kpi: 'failedUpdateRate', over: 0.4, severity: 'critical', playbook: 'Check the source; pause it if it keeps failing.' },
      { id: 'risk', kpi: 'revenueAtRisk', over: 1000, playbook: 'Not reached by this history.' },
    ]);

    before(async () => {
      database = await createTestDatabase();
      await seedKpiHistory(database);
      await replaceOwnership(database.db, {
        owners: [
          { id: 'ivy', name: 'Ivy', contact: 'ivy@example.com', roles: ['inventory', 'approver'] },
          { id: 'rita', name: 'Rita', contact: 'rita@example.com', roles: ['inventory'] },
        ],
        rules: [
          { owner: 'ivy', backup: 'rita', escalation: 'rita', ackSla: '1h', resolutionSla: '1d' },
          { match: { exceptionType: 'kpi_alert' }, owner: 'rita', backup: 'ivy', escalation: 'ivy', ackSla: '1h', resolutionSla: '1d' },
        ],
      });
      webhook = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (c: Buffer) => chunks.push(c));
        request.on('end', () => {
          posted.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          response.writeHead(200).end();
        });
      });
      await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
      const webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
      worker = await startTestWorker(database, 'alerts', { alerts: rules, notifier: { namespace: infra().namespace, webhookUrl, log: (line) => logged.push(line) } });
    });

    after(async () => {
      await worker?.stop();
      await new Promise((resolve) => webhook?.close(resolve));
      await database?.close();
    });

    const run = async <W extends typeof kpiAlertCheck | typeof ownerDigest>(type: string, id: string): Promise<Awaited<ReturnType<W>>> =>
      (await infra().client.workflow.execute(type, { taskQueue: worker.taskQueue, workflowId: `${worker.taskQueue}/${id}`, args: [] })) as Awaited<ReturnType<W>>;

    it('opens one exception per breach for the owner the rules give, and joins it while the breach lasts', async () => {
      const first = await run<typeof kpiAlertCheck>('kpiAlertCheck', 'check-1');
      assert.deepEqual(first.raised.sort(), [
        'exception/kpi_alert/kpi:backlog-ivy',
        'exception/kpi_alert/kpi:updates-failing/channel:shop',
        'exception/kpi_alert/kpi:updates-failing/supplier:acme',
      ]);
      const again = await run<typeof kpiAlertCheck>('kpiAlertCheck', 'check-2');
      assert.deepEqual(again.raised.sort(), first.raised.sort());
      const alerts = await database.sql`SELECT subject, owner_id, severity, context FROM exceptions WHERE type = 'kpi_alert' ORDER BY subject`;
      assert.equal(alerts.length, 3, 'the second check joined, it did not open more');
      assert.deepEqual(alerts.map((a) => a.owner_id), ['rita', 'rita', 'rita']);
      assert.equal(alerts[1].severity, 'critical');
      assert.equal(alerts[0].context.playbook, 'Triage the oldest first; reassign what is not yours.');
      // The alerts themselves now show in the KPIs: the backlog of their owner.
      const k = await computeKpis({ db: database.db }, { window: 86400, owner: 'rita' });
      assert.equal(k.exceptionBacklog.rows.find((r) => r.type === 'kpi_alert')?.open, 3);
    });

    it('sends each owner with something to tell one digest, keyed per owner and day', async () => {
      const { sent } = await run<typeof ownerDigest>('ownerDigest', 'digest-1');
      assert.equal(sent, 2);
      const digests = posted.filter((p) => 'digest' in p.body);
      const day = new Date().toISOString().slice(0, 10);
      assert.deepEqual(digests.map((d) => d.headers['idempotency-key']).sort(), [`digest/ivy/${day}`, `digest/rita/${day}`]);
      const rita = logged.find((line) => line.startsWith('[Stockflow] Daily digest for Rita'));
      assert.ok(rita, logged.join('\n'));
      assert.match(rita, /Open: 4 \(3 not yet acknowledged\)\. SLA breaches in the last day: 0\./);
      assert.match(rita, /Changed in the last day: 3 opened, 0 resolved\./);
    });
  });
});
