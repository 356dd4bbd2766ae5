import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext } from 'playwright-core';
import { buildApi } from '../api/server';
import type { Database } from '../db/connection';
import { ARTEFACTS, launchChromium } from './browser';
import { createTestDatabase, defaultApiSettings, infra } from './harness';
import { seedKpiHistory } from './kpi-history';

const TOKEN = 'dashboard-token';
const UI = 'http://temporal-ui.test:8233';

describe('the dashboard in a real browser', () => {
  let database: Database;
  let api: FastifyInstance;
  let base: string;
  let chromium: { context: BrowserContext; close(): Promise<void> };

  before(async () => {
    database = await createTestDatabase();
    await seedKpiHistory(database);
    api = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: 'dashboard-unused', apiToken: TOKEN, temporalUiUrl: UI });
    base = await api.listen({ host: '127.0.0.1', port: 0 });
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    await api?.close();
    await database?.close();
  });

  it('asks for the token, then shows the same figures as GET /v1/kpis, with backlog links into the Temporal UI', async () => {
    const page = await chromium.context.newPage();
    const kpiRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/v1/kpis')) kpiRequests.push(request.url());
    });
    await page.goto(`${base}/dashboard`);
    await page.waitForSelector('#login:not([hidden])');

    await page.fill('#token', 'wrong');
    await page.click('#login button[type=submit]');
    await page.locator('#login-error').filter({ hasText: 'not accepted' }).waitFor();
    assert.equal(await page.isVisible('#dashboard'), false);

    await page.fill('#token', TOKEN);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('body[data-loaded]');

    const api30d = (await api.inject({ method: 'GET', url: '/v1/kpis?window=30d', headers: { authorization: `Bearer ${TOKEN}` } })).json();
    const shown = Object.fromEntries(await page.$$eval('[data-kpi]', (els) => els.map((el) => [el.getAttribute('data-kpi'), el.textContent])));
    assert.equal(shown['revenueAtRisk.units'], String(api30d.revenueAtRisk.units));
    assert.equal(shown['revenueAtRisk.units'], '125');
    assert.equal(shown['revenueAtRisk.value'], '(no prices yet)');
    for (const key of ['feedHeld', 'countBlocked', 'ordersInExceptions']) {
      assert.equal(shown[`revenueAtRisk.${key}.units`], String(api30d.revenueAtRisk[key].units), key);
      assert.equal(shown[`revenueAtRisk.${key}.things`], String(api30d.revenueAtRisk[key].things), key);
    }
    assert.equal(shown['exceptionBacklog.total'], String(api30d.exceptionBacklog.total));
    assert.equal(shown['slaBreaches.total'], String(api30d.slaBreaches.total));
    assert.equal(shown['timeToAcknowledge.p50'], `${Math.round(api30d.timeToAcknowledge.p50)} s`);
    assert.equal(shown['timeToResolve.p50'], `${Math.round(api30d.timeToResolve.p50)} s`);
    assert.equal(shown['stockAccuracy.share'], `${(api30d.stockAccuracy.share * 100).toFixed(1)}%`);
    assert.equal(shown['shrinkage.units'], String(api30d.shrinkage.units));
    assert.equal(shown['stockouts.events'], String(api30d.stockouts.events));
    assert.equal(shown['inventoryTurnover.unitTurns'], api30d.inventoryTurnover.unitTurns.toFixed(2));
    assert.equal(api30d.inventoryTurnover.valueTurns, null);
    assert.equal(shown['inventoryTurnover.valueTurns'], '—', 'no costs yet');
    assert.equal(shown['ordersNeedingPerson.share'], `${(api30d.ordersNeedingPerson.share * 100).toFixed(1)}%`);

    const backlogRows = await page.$$eval('#backlog tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    assert.deepEqual(
      backlogRows.map((r) => r.slice(0, 4)),
      api30d.exceptionBacklog.rows.map((r: { owner: string; type: string; open: number; acknowledged: number }) => [r.owner, r.type, String(r.open), String(r.acknowledged)]),
    );
    const links = await page.$$eval('#oldest a', (as) => as.map((a) => a.getAttribute('href')));
    assert.equal(links.length, api30d.exceptionBacklog.oldest.length);
    assert.equal(links[0], `${UI}/namespaces/default/workflows/${encodeURIComponent(api30d.exceptionBacklog.oldest[0].workflowId)}`);
    assert.equal(await page.locator('.uplot').count(), 5, 'one chart per trend');

    // The token travels in a header only: not in any URL the page asked for, not in the page's own.
    assert.ok(kpiRequests.length >= 2);
    for (const url of [...kpiRequests, page.url()]) assert.ok(!url.includes(TOKEN), url);
    assert.equal(await page.evaluate(() => (globalThis as { sessionStorage?: { getItem(key: string): string | null } }).sessionStorage?.getItem('stockflow.operatorToken')), TOKEN);

    const screenshot = path.join(ARTEFACTS, 'dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok(existsSync(screenshot) && statSync(screenshot).size > 10_000);

    // Filters go to the API: one owner's backlog.
    await page.fill('#filters input[name=owner]', 'rita');
    await page.click('#filters button[type=submit]');
    await page.locator('[data-kpi="exceptionBacklog.total"]').filter({ hasText: /^1$/ }).waitFor();
    await page.close();
  });
});
