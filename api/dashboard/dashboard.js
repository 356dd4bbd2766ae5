// The operator dashboard: reads GET /v1/kpis with the operator token, which is kept in this
// tab's sessionStorage (never in the URL, never in a cookie), and draws the figures with uPlot.
(function () {
  'use strict';
  const TOKEN_KEY = 'stockflow.operatorToken';
  const $ = (selector) => document.querySelector(selector);
  const charts = [];
  let config = { temporalUiUrl: '', namespace: 'default' };

  const formats = {
    number: (v) => (v === null || v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(2)),
    percent: (v) => (v === null ? '—' : (v * 100).toFixed(1) + '%'),
    seconds: (v) => (v === null ? '—' : Math.round(v) + ' s'),
    days: (v) => (v === null ? '—' : v.toFixed(2)),
    ratio: (v) => (v === null ? '—' : v.toFixed(2)),
    money: (v) => (v === null ? '(no prices yet)' : v.toFixed(2)),
  };
  const pick = (object, path) => path.split('.').reduce((o, key) => (o === null || o === undefined ? undefined : o[key]), object);

  function show(view) {
    $('#login').hidden = view !== 'login';
    $('#dashboard').hidden = view !== 'dashboard';
    $('#filters').hidden = view !== 'dashboard';
  }

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function fillTable(id, rows) {
    const body = $(id + ' tbody');
    body.replaceChildren(
      ...rows.map((cells) => {
        const tr = document.createElement('tr');
        tr.append(...cells.map((c) => (c instanceof Node ? c : cell(String(c)))));
        return tr;
      }),
    );
  }

  function workflowLink(workflowId, text) {
    const a = document.createElement('a');
    a.href = config.temporalUiUrl + '/namespaces/' + encodeURIComponent(config.namespace) + '/workflows/' + encodeURIComponent(workflowId);
    a.target = '_blank';
    a.rel = 'noopener';
    a.textContent = text;
    const td = document.createElement('td');
    td.className = 'text';
    td.append(a);
    return td;
  }

  function chart(id, labels, xs, ys, options) {
    const target = document.getElementById(id);
    target.replaceChildren();
    const colours = ['#c0392b', '#2980b9', '#27ae60', '#8e44ad'];
    const series = [{}].concat(labels.map((label, i) => ({ label: label, stroke: colours[i % colours.length], width: 2 })));
    charts.push(new uPlot({ width: 420, height: 180, series: series, scales: { x: { time: options.time } }, axes: [{}, {}] }, [xs].concat(ys), target));
  }

  function dayStamps(days) {
    return days.map((d) => Date.parse(d + 'T00:00:00Z') / 1000);
  }

  function render(k) {
    document.querySelectorAll('[data-kpi]').forEach((el) => {
      const value = pick(k, el.dataset.kpi);
      el.textContent = (formats[el.dataset.format] || formats.number)(value);
    });
    $('#window').textContent = 'Window ' + k.window.from + ' → ' + k.window.to + ' · backlog and revenue at risk are as of now';
    fillTable('#backlog', k.exceptionBacklog.rows.map((r) => [cell(r.owner, 'text'), cell(r.type, 'text'), r.open, r.acknowledged, r.under1h, r.under1d, r.under7d, r.over7d]));
    fillTable('#oldest', k.exceptionBacklog.oldest.map((e) => [cell(e.owner, 'text'), cell(e.type, 'text'), workflowLink(e.workflowId, e.subject), cell(e.openedAt, 'text'), cell(e.status, 'text')]));
    fillTable('#latency', k.updateLatency.map((l) => [cell(l.flow, 'text'), l.count, formats.number(l.p50 === null ? null : Math.round(l.p50)), formats.number(l.p95 === null ? null : Math.round(l.p95))]));
    fillTable('#failed', k.failedUpdateRate.map((f) => [cell(f.source, 'text'), f.received, f.refused + f.rejected + f.held, formats.percent(f.rate)]));

    charts.splice(0).forEach((c) => c.destroy());
    const xs = dayStamps(k.trend.days);
    chart('chart-exceptions', ['opened', 'resolved'], xs, [k.trend.exceptionsOpened, k.trend.exceptionsResolved], { time: true });
    chart('chart-shrinkage', ['units'], xs, [k.trend.shrinkageUnits], { time: true });
    chart('chart-feeds', ['received', 'failed'], xs, [k.trend.feedLinesReceived, k.trend.feedLinesFailed], { time: true });
    chart('chart-stockouts', ['events'], xs, [k.trend.stockouts], { time: true });
    const runs = k.reconciliation.runs;
    chart('chart-reconciliation', ['deltas'], runs.map((r) => Date.parse(r.ranAt) / 1000), [runs.map((r) => r.deltas)], { time: true });
    document.body.dataset.loaded = k.generatedAt;
  }

  async function load() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token === null) return show('login');
    const filters = new FormData($('#filters'));
    const query = new URLSearchParams();
    for (const [name, value] of filters) if (value) query.set(name, value);
    const response = await fetch('/v1/kpis?' + query, { headers: { authorization: 'Bearer ' + token } });
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      $('#login-error').textContent = 'That token was not accepted.';
      return show('login');
    }
    const body = await response.json();
    if (!response.ok) {
      $('#error').textContent = body.message || 'the KPIs could not be read (' + response.status + ')';
      return;
    }
    $('#error').textContent = '';
    show('dashboard');
    render(body);
  }

  $('#login').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('#token').value);
    $('#token').value = '';
    load();
  });
  $('#filters').addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  $('#logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    show('login');
  });

  fetch('/dashboard/config.json')
    .then((r) => r.json())
    .then((c) => {
      config = c;
      return load();
    })
    .catch((error) => {
      $('#error').textContent = String(error);
    });
})();
