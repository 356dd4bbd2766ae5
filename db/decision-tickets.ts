import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from './connection';
import { decisionTickets } from './schema';

/** How long a ticket waits to be consumed: the API sends its decision at once, so this is generous. */
const TICKET_LIFETIME_SECONDS = 600;

export interface DecisionClaim {
  workflowId: string;
  by: string;
  action: string;
}

/** Writes the proof that the API sends this decision; the id travels with it to the workflow. */
export async function issueDecisionTicket(db: Db, claim: DecisionClaim): Promise<string> {
  const id = randomBytes(16).toString('hex');
  await db.insert(decisionTickets).values({ id, workflowId: claim.workflowId, principalId: claim.by, action: claim.action });
  return id;
}

/**
 * Consumes a ticket for decision `seq` of the workflow: true when the ticket was written by the API
 * for exactly this workflow, person and action, recently, and not used for another decision.
 */
export async function claimDecisionTicket(db: Db, ticket: string, claim: DecisionClaim & { seq: number }): Promise<boolean> {
  const rows = await db
    .update(decisionTickets)
    .set({ consumedAt: sql`coalesce(${decisionTickets.consumedAt}, now())`, consumedSeq: claim.seq })
    .where(
      sql`${decisionTickets.id} = ${ticket} AND ${decisionTickets.workflowId} = ${claim.workflowId}
        AND ${decisionTickets.principalId} = ${claim.by} AND ${decisionTickets.action} = ${claim.action}
        AND ${decisionTickets.createdAt} > now() - make_interval(secs => ${TICKET_LIFETIME_SECONDS})
        AND (${decisionTickets.consumedAt} IS NULL OR ${decisionTickets.consumedSeq} = ${claim.seq})`,
    )
    .returning({ id: decisionTickets.id });
  return rows.length === 1;
}
