import type { Client } from '@temporalio/client';
import { raiseException as startOrJoin } from '../services/exceptions';
import { RaiseException, type RaiseExceptionInput } from '../schemas/exceptions';

export interface TemporalDeps {
  client: Client;
  taskQueue: string;
}

/**
 * Lets a flow (feed ingest, order reconciliation) hand a problem to a person. The exception is its
 * own workflow, not a child: it outlives the flow that raised it (which may finish or continue as
 * new), and raising the same type and subject twice joins the open one.
 */
export function createRaiseActivities(temporal: TemporalDeps | undefined) {
  return {
    async raiseException(input: RaiseExceptionInput): Promise<{ workflowId: string }> {
      if (!temporal) throw new Error('this worker has no Temporal client for raising exceptions');
      const handle = await startOrJoin(temporal, RaiseException.parse(input));
      return { workflowId: handle.workflowId };
    },
  };
}
