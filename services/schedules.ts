import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import { StockflowFlow } from '../workflows/search-attributes';
import { scheduleIds } from '../domain/keys';


/**
 * Creates the daily reconciliation (02:00 UTC), the reservation sweep and the KPI alert check
 * (every 5 minutes), the owners' daily digest (07:00 UTC), the channel drift check (every 15
 * minutes), replenishment (05:00 UTC), the ABC classes (Mondays 04:00 UTC) and the day's count tasks
 * (Monday to Friday, 06:00 UTC, after the classes) unless they exist. Safe to call from every start-up: the schedule id is the key, an existing schedule
 * is left as it is (an operator may have paused or retimed it in the UI).
 */
export async function ensureSchedules(client: Client, taskQueue: string): Promise<string[]> {
  const wanted = [
    { scheduleId: scheduleIds.dailyReconciliation(taskQueue), workflowType: 'dailyReconciliation', spec: { calendars: [{ hour: 2, minute: 0 }] }, summary: 'Daily reconciliation: ledger, reservations, system of record' },
    { scheduleId: scheduleIds.reservationSweep(taskQueue), workflowType: 'reservationSweep', spec: { intervals: [{ every: '5 minutes' as const }] }, summary: 'Release reservations past their expiry' },
    { scheduleId: scheduleIds.kpiAlerts(taskQueue), workflowType: 'kpiAlertCheck', spec: { intervals: [{ every: '5 minutes' as const }] }, summary: 'Open an exception for each KPI over its alert threshold' },
    { scheduleId: scheduleIds.ownerDigest(taskQueue), workflowType: 'ownerDigest', spec: { calendars: [{ hour: 7, minute: 0 }] }, summary: 'Daily digest to each owner: open, breached, changed' },
    { scheduleId: scheduleIds.channelDrift(taskQueue), workflowType: 'channelDrift', spec: { intervals: [{ every: '15 minutes' as const }] }, summary: 'Read back what each sales channel shows; a delta exception per mismatch' },
    { scheduleId: scheduleIds.replenishment(taskQueue), workflowType: 'replenishment', spec: { calendars: [{ hour: 5, minute: 0 }] }, summary: 'Daily replenishment: one purchase suggestion per supplier, held for the buyer' },
    { scheduleId: scheduleIds.abcClassification(taskQueue), workflowType: 'abcClassification', spec: { calendars: [{ dayOfWeek: 'MONDAY' as const, hour: 4, minute: 0 }] }, summary: 'Weekly ABC classes by revenue: how often each SKU is counted' },
    { scheduleId: scheduleIds.countPlanning(taskQueue), workflowType: 'countPlanning', spec: { calendars: [{ dayOfWeek: [{ start: 'MONDAY' as const, end: 'FRIDAY' as const }], hour: 6, minute: 0 }] }, summary: "Each working day: one count task per location, held for the counting owner" },
  ];
  const created: string[] = [];
  for (const { scheduleId, workflowType, spec, summary } of wanted) {
    try {
      await client.schedule.create({
        scheduleId,
        spec,
        action: {
          type: 'startWorkflow',
          workflowType,
          taskQueue,
          workflowId: scheduleId,
          typedSearchAttributes: [{ key: StockflowFlow, value: workflowType }],
          staticSummary: summary,
        },
        policies: { overlap: 'SKIP' },
      });
      created.push(scheduleId);
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    }
  }
  return created;
}
