import { notPlaceholder, PLACEHOLDER_REASON } from './placeholders';

/**
 * The shape check of an exception decision (schemas/exceptions.ts `Decision`), written out by
 * hand for the exception workflow's update validator: the workflow bundle must not carry zod,
 * whose schema building cost the workflow thread more than the workflows themselves.
 * test/domain.test.ts holds the two to the same verdicts.
 */
export function decisionProblems(decision: unknown): string[] {
  if (typeof decision !== 'object' || decision === null) return ['(body): must be a JSON object'];
  const d = decision as Record<string, unknown>;
  const problems: string[] = [];
  const check = (field: string, problem: string | undefined) => problem && problems.push(`${field}: ${problem}`);
  if (!ACTIONS.includes(d.action as string)) {
    return [`action: must be one of ${ACTIONS.join(', ')}`];
  }
  check('by', ownerIdProblem(d.by));
  if (d.action !== 'acknowledge' || d.reason !== undefined) check('reason', textProblem(d.reason, 1000, 'must say why'));
  if (d.action === 'reassign') check('to', ownerIdProblem(d.to));
  if (d.action === 'approve' && d.evidence !== undefined) check('evidence', textProblem(d.evidence, 2000, 'must not be empty'));
  return problems;
}

const ACTIONS = ['acknowledge', 'approve', 'reject', 'reassign', 'comment'];

function ownerIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  const id = value.trim();
  if (id.length === 0) return 'must not be empty';
  if (id.length > 64) return 'must be at most 64 characters';
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id)) return 'must be lower-case letters, digits, ".", "_" or "-"';
  return notPlaceholder(id) ? undefined : PLACEHOLDER_REASON;
}

function textProblem(value: unknown, max: number, empty: string): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  const text = value.trim();
  if (text.length === 0) return empty;
  return text.length > max ? `must be at most ${max} characters` : undefined;
}
