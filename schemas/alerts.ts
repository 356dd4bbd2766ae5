import { z } from 'zod';
import { LocationCode } from './common';
import { DurationSeconds } from './duration';
import { Severity } from './exceptions';
import { OwnerId } from './ownership';

/**
 * One KPI threshold: when the KPI is over it, an exception (type `kpi_alert`) is opened through
 * the usual exception path, so the ownership rules pick its owner (match `kpi_alert`, and the
 * rule's location or the breaching supplier) and the SLA clock and notifications apply.
 */
export const AlertRule = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lowercase letters, digits, - and _ (at most 64)'),
  kpi: z.enum(['exceptionBacklog', 'failedUpdateRate', 'revenueAtRisk', 'slaBreaches']),
  /** Breached when the figure is above this: a count, a share (0.05 = 5%), units or money. */
  over: z.number().nonnegative(),
  /** exceptionBacklog: that person's backlog; other KPIs: the owner filter of GET /v1/kpis. */
  owner: OwnerId.optional(),
  location: LocationCode.optional(),
  /** failedUpdateRate: one source (`supplier:<id>`, `channel:<name>`); unset: each source on its own. */
  source: z.string().min(1).max(200).optional(),
  /** revenueAtRisk: units (live) or value (once prices exist). */
  measure: z.enum(['units', 'value']).default('units'),
  window: DurationSeconds.default(86400),
  severity: Severity.default('high'),
  /** What the owner should do: shown with the exception. */
  playbook: z.string().trim().min(1, 'must say what to do').max(2000),
});
export type AlertRule = z.infer<typeof AlertRule>;

export const AlertRules = z.array(AlertRule).refine((rules) => new Set(rules.map((r) => r.id)).size === rules.length, 'alert ids must be unique');
export type AlertRules = z.infer<typeof AlertRules>;

/** STOCKFLOW_ALERTS: a JSON array of rules; unset or empty means no alerts. */
export const AlertRulesText = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text.trim() === '') return [];
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `must be a JSON array of alert rules: ${(error as Error).message}` });
      return z.NEVER;
    }
  })
  .pipe(AlertRules);
