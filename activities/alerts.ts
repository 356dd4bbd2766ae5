import type { Db } from '../db/connection';
import { alertException, breachesOf } from '../domain/alerts';
import type { AlertRules } from '../schemas/alerts';
import type { RaiseExceptionInput } from '../schemas/exceptions';
import { computeKpis } from '../services/kpis';

export function createAlertActivities(db: Db, rules: AlertRules) {
  return {
    /** Every configured KPI threshold that is breached now, as the exception each one opens (or joins). */
    async checkKpiAlerts(): Promise<RaiseExceptionInput[]> {
      const raised: RaiseExceptionInput[] = [];
      for (const rule of rules) {
        const kpis = await computeKpis({ db }, { window: rule.window, location: rule.location, owner: rule.owner });
        raised.push(...breachesOf(rule, kpis).map(alertException));
      }
      return raised;
    },
  };
}
