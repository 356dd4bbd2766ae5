import type { AlertRule } from '../schemas/alerts';
import type { RaiseExceptionInput } from '../schemas/exceptions';
import type { Kpis } from '../schemas/kpis';
import { exceptionSubjects } from './keys';

/** A KPI over its rule's threshold, for one scope (a source, or the rule as a whole). */
export interface Breach {
  rule: AlertRule;
  value: number;
  /** Which source breached, for rules measured per source. */
  scope?: string;
}

/** The breaches of one rule in KPIs computed with the rule's window and filters. */
export function breachesOf(rule: AlertRule, k: Kpis): Breach[] {
  const over = (value: number | null, scope?: string): Breach[] => (value !== null && value > rule.over ? [{ rule, value, ...(scope ? { scope } : {}) }] : []);
  switch (rule.kpi) {
    case 'exceptionBacklog':
      return over(k.exceptionBacklog.rows.filter((r) => rule.owner === undefined || r.owner === rule.owner).reduce((n, r) => n + r.open + r.acknowledged, 0));
    case 'slaBreaches':
      return over(k.slaBreaches.total);
    case 'revenueAtRisk':
      return over(rule.measure === 'value' ? k.revenueAtRisk.value : k.revenueAtRisk.units);
    case 'failedUpdateRate':
      return k.failedUpdateRate.filter((f) => rule.source === undefined || f.source === rule.source).flatMap((f) => over(f.rate, rule.source ? undefined : f.source));
  }
}

const describe = (b: Breach) => {
  const shown = (n: number) => (b.rule.kpi === 'failedUpdateRate' ? `${(n * 100).toFixed(1)}%` : String(Math.round(n * 100) / 100));
  const what = b.rule.kpi === 'exceptionBacklog' && b.rule.owner ? `exception backlog of ${b.rule.owner}` : b.rule.kpi;
  return `${what}${b.scope ? ` (${b.scope})` : ''} is ${shown(b.value)}, over ${shown(b.rule.over)}`;
};

/**
 * The exception a breach opens: one per rule and scope, so the next check joins it while the
 * breach lasts and a new one opens only after it was resolved. Its owner comes from the ownership
 * rules (type `kpi_alert`, the rule's location, the breaching supplier).
 */
export function alertException(b: Breach): RaiseExceptionInput {
  const supplierId = b.scope?.startsWith('supplier:') ? b.scope.slice('supplier:'.length) : b.rule.source?.startsWith('supplier:') ? b.rule.source.slice('supplier:'.length) : undefined;
  const summary = `KPI alert ${b.rule.id}: ${describe(b)}. Playbook: ${b.rule.playbook}`;
  return {
    type: 'kpi_alert',
    subject: exceptionSubjects.kpiAlert(b.rule.id, b.scope),
    severity: b.rule.severity,
    summary: summary.length > 300 ? `${summary.slice(0, 299)}…` : summary,
    source: 'kpi-alerts',
    ...(b.rule.location ? { location: b.rule.location } : {}),
    ...(supplierId ? { supplierId } : {}),
    context: { rule: b.rule.id, kpi: b.rule.kpi, value: b.value, threshold: b.rule.over, windowSeconds: b.rule.window, playbook: b.rule.playbook },
  };
}

export interface DigestFigures {
  ownerName: string;
  open: number;
  acknowledged: number;
  /** SLA escalations in the last day. */
  breached: number;
  openedToday: number;
  resolvedToday: number;
  oldest: { type: string; subject: string; openedAt: string }[];
}

/** One owner's daily digest: what is open, what breached, what changed in the last day. */
export function digestText(day: string, f: DigestFigures): string {
  return [
    `[Stockflow] Daily digest for ${f.ownerName}, ${day}`,
    `Open: ${f.open + f.acknowledged} (${f.open} not yet acknowledged). SLA breaches in the last day: ${f.breached}.`,
    `Changed in the last day: ${f.openedToday} opened, ${f.resolvedToday} resolved.`,
    ...(f.oldest.length > 0 ? ['Oldest open:', ...f.oldest.map((e) => `  ${e.type} ${e.subject} (since ${e.openedAt})`)] : []),
  ].join('\n');
}
