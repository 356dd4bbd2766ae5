import { Context } from '@temporalio/activity';
import type { Db } from '../db/connection';
import { claimDecisionTicket } from '../db/decision-tickets';
import { openException as recordOpened, recordExceptionEvent as recordEvent, type ExceptionEventInput } from '../db/exceptions';
import { findOwner, resolveResponsibility } from '../db/ownership';
import { RaiseException, type RaiseExceptionInput } from '../schemas/exceptions';
import type { UiDecisions } from '../schemas/identity';
import { metrics } from '../runtime/metrics';
import type { Owner, Responsibility } from '../schemas/ownership';

export interface OpenedException {
  exceptionId: number;
  openedAt: string;
  responsibility: Responsibility;
}

export interface DecisionOrigin {
  /** The decision carries a ticket the API wrote for it: it was made by an authenticated principal. */
  fromApi: boolean;
  /** What to do with decisions that did not come through the API (STOCKFLOW_UI_DECISIONS). */
  otherDecisions: UiDecisions;
}

export function createExceptionActivities(db: Db, uiDecisions: UiDecisions = 'deny') {
  return {
    /** Where decision `seq` came from; the workflow cannot tell who sent a signal or an update, the database can. */
    async checkDecisionOrigin(claim: { ticket?: string; workflowId: string; by: string; action: string; seq: number }): Promise<DecisionOrigin> {
      const fromApi = claim.ticket !== undefined && (await claimDecisionTicket(db, claim.ticket, claim));
      return { fromApi, otherDecisions: uiDecisions };
    },

    /** Picks the owner from the ownership rules and records the exception for this workflow run. */
    async openException(input: RaiseExceptionInput): Promise<OpenedException> {
      const raise = RaiseException.parse(input);
      const { workflowId, runId } = Context.current().info.workflowExecution ?? {};
      if (!workflowId || !runId) throw new Error('openException runs only as an activity of a workflow');
      const responsibility = await resolveResponsibility(db, {
        type: raise.type,
        sku: raise.sku,
        location: raise.location,
        supplierId: raise.supplierId,
      });
      const named = raise.ownerId ? await findOwner(db, raise.ownerId) : undefined;
      if (named) responsibility.owner = named;
      const { exceptionId, openedAt } = await recordOpened(db, { workflowId, runId, raise, responsibility });
      metrics.exceptionsOpened.inc({ type: raise.type });
      return { exceptionId, openedAt: openedAt.toISOString(), responsibility };
    },

    /** Appends a step to the exception's history (idempotent by sequence number). */
    async recordExceptionEvent(event: ExceptionEventInput): Promise<boolean> {
      const recorded = await recordEvent(db, event);
      if (recorded && event.outcome === 'accepted' && (event.action === 'approve' || event.action === 'reject')) metrics.exceptionsDecided.inc({ decision: event.action });
      return recorded;
    },

    async findOwner(id: string): Promise<Owner | undefined> {
      return findOwner(db, id);
    },
  };
}
