import { Context } from '@temporalio/activity';
import type { Db } from '../db/connection';
import { openException as recordOpened, recordExceptionEvent as recordEvent, type ExceptionEventInput } from '../db/exceptions';
import { findOwner, resolveResponsibility } from '../db/ownership';
import { RaiseException, type RaiseExceptionInput } from '../schemas/exceptions';
import type { Owner, Responsibility } from '../schemas/ownership';

export interface OpenedException {
  exceptionId: number;
  openedAt: string;
  responsibility: Responsibility;
}

export function createExceptionActivities(db: Db) {
  return {
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
      return { exceptionId, openedAt: openedAt.toISOString(), responsibility };
    },

    /** Appends a step to the exception's history (idempotent by sequence number). */
    async recordExceptionEvent(event: ExceptionEventInput): Promise<boolean> {
      return recordEvent(db, event);
    },

    async findOwner(id: string): Promise<Owner | undefined> {
      return findOwner(db, id);
    },
  };
}
