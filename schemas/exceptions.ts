import { z } from 'zod';
import { LocationCode, Sku } from './common';
import { OwnerId } from './ownership';
import { StockOperation } from './stock';

export const ExceptionTypeName = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case, e.g. supplier_feed_line');

/** What the exception is about; part of its workflow id, so printable and bounded. */
export const ExceptionSubject = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[A-Za-z0-9._:@/-]+$/, 'may contain only letters, digits and . _ : @ / -');

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);

export const ExceptionStatus = z.enum(['open', 'acknowledged', 'approved', 'rejected']);
export type ExceptionStatus = z.infer<typeof ExceptionStatus>;
export const RESOLVED: readonly ExceptionStatus[] = ['approved', 'rejected'];

/** Everything needed to raise an exception; the body of `POST /v1/exceptions`. */
export const RaiseException = z.object({
  type: ExceptionTypeName,
  subject: ExceptionSubject,
  severity: Severity.default('medium'),
  summary: z.string().trim().min(1, 'must say what happened').max(300, 'must be at most 300 characters'),
  /** The change held back until someone decides; applied exactly once on approval. */
  heldChange: StockOperation.optional(),
  /** Approving overrides a policy (e.g. a negative or spiking quantity): the approver must give evidence. */
  requiresEvidence: z.boolean().default(false),
  /** Structured context for the owner: the diff, the last known-good state, the source record. */
  context: z.record(z.string(), z.unknown()).default({}),
  source: z.string().trim().min(1, 'must say who raised it').max(200),
  sku: Sku.optional(),
  location: LocationCode.optional(),
  supplierId: z.string().min(1).max(64).optional(),
  orderId: z.string().min(1).max(200).optional(),
  /**
   * The owner the raising object names for itself (a sales channel's owner); the ownership rules
   * still give the backup, escalation and SLAs, and the owner when this is absent.
   */
  ownerId: OwnerId.optional(),
  /** A workflow waiting on the outcome (a quarantined feed): told with `exceptionDecided` on approve or reject. */
  notifyWorkflowId: z.string().min(1).max(300).optional(),
});
export type RaiseException = z.infer<typeof RaiseException>;
export type RaiseExceptionInput = z.input<typeof RaiseException>;

const by = OwnerId;
const reason = z.string().trim().min(1, 'must say why').max(1000, 'must be at most 1000 characters');

/** The payloads of the exception signals (and of the `decide` update), as sent from the UI, API or CLI. */
export const AcknowledgeInput = z.object({ by, reason: reason.default('acknowledged') });
export const ApproveInput = z.object({ by, reason, evidence: z.string().trim().min(1).max(2000).optional() });
export const RejectInput = z.object({ by, reason });
export const ReassignInput = z.object({ by, reason, to: OwnerId });
export const CommentInput = z.object({ by, reason });

export const Decision = z.discriminatedUnion('action', [
  AcknowledgeInput.extend({ action: z.literal('acknowledge') }),
  ApproveInput.extend({ action: z.literal('approve') }),
  RejectInput.extend({ action: z.literal('reject') }),
  ReassignInput.extend({ action: z.literal('reassign') }),
  CommentInput.extend({ action: z.literal('comment') }),
]);
export type Decision = z.infer<typeof Decision>;
export type DecisionInput = z.input<typeof Decision>;
export type DecisionAction = Decision['action'];

export interface DecisionRecord {
  seq: number;
  action: DecisionAction | 'escalate' | 'join';
  by: string;
  reason?: string;
  outcome: 'accepted' | 'refused';
  refusal?: string;
  /** How the decision arrived: through the API (authenticated), as a signal (the Temporal UI), or as an update sent straight to Temporal. */
  via?: DecisionPath;
  at: string;
}

export type DecisionPath = 'api' | 'signal' | 'update';

/** What the `state` query returns: the whole current picture of one exception. */
export interface ExceptionState {
  exceptionId: number;
  workflowId: string;
  type: string;
  subject: string;
  severity: string;
  summary: string;
  status: ExceptionStatus;
  ownerId: string;
  backupId: string;
  escalationId: string;
  assigneeId: string;
  escalationLevel: number;
  slaDueAt?: string;
  occurrences: number;
  heldChange?: StockOperation;
  requiresEvidence: boolean;
  context: Record<string, unknown>;
  history: DecisionRecord[];
  decidedBy?: string;
  decisionReason?: string;
}

export const ExceptionFilter = z.object({
  status: ExceptionStatus.optional(),
  owner: OwnerId.optional(),
  type: ExceptionTypeName.optional(),
  sku: Sku.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type ExceptionFilter = z.infer<typeof ExceptionFilter>;
