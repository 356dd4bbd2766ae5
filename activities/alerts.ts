import type { Db } from '../db/connection';
import { rollUpMovementDays } from '../db/kpis';
import { alertException, breachesOf } from '../domain/alerts';
import type { AlertRules } from '../schemas/alerts';
import type { RaiseExceptionInput } from '../schemas/exceptions';
import { computeKpis } from '../services/kpis';

export function createAlertActivities(db: Db, rules: AlertRules) {
  return {
    /**
     * Every configured KPI threshold that is breached now, as the exception each one opens (or
     * joins). Each run first rolls up any ledger day that has settled, so the schedule that runs
     * this every five minutes also keeps the turnover rollup current.
     */
    async checkKpiAlerts(): Promise<RaiseExceptionInput[]> {
      await rollUpMovementDays(db);
      const raised: RaiseExceptionInput[] = [];
      for (const rule of rules) {
        const kpis = await computeKpis({ db }, { window: rule.window, location: rule.location, owner: rule.owner });
        raised.push(...breachesOf(rule, kpis).map(alertException));
      }
      return raised;
    },
  };
}
