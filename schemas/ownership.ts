import { z } from 'zod';
import { notPlaceholder, PLACEHOLDER_REASON } from './common';
import { DurationSeconds } from './duration';

export const OwnerId = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"')
  .refine(notPlaceholder, PLACEHOLDER_REASON);

export const Owner = z.object({
  id: OwnerId,
  name: z.string().trim().min(1, 'must not be empty').max(200),
  /** Where notifications reach them (e-mail, chat handle); not put in search attributes. */
  contact: z.string().trim().min(1, 'must not be empty').max(200),
  roles: z.array(z.enum(['approver', 'inventory', 'purchasing', 'fulfilment', 'operations', 'counting'])).default([]),
});
export type Owner = z.infer<typeof Owner>;

export const RuleMatch = z
  .object({
    exceptionType: z.string().min(1).max(64).optional(),
    skuPrefix: z.string().min(1).max(64).optional(),
    location: z.string().min(1).max(32).optional(),
    supplierId: z.string().min(1).max(64).optional(),
  })
  .strict();

export const OwnershipRule = z.object({
  match: RuleMatch.default({}),
  owner: OwnerId,
  backup: OwnerId,
  escalation: OwnerId,
  ackSla: DurationSeconds,
  resolutionSla: DurationSeconds,
});
export type OwnershipRule = z.infer<typeof OwnershipRule>;

export function isDefaultRule(rule: { match: z.infer<typeof RuleMatch> }): boolean {
  return Object.values(rule.match).every((v) => v === undefined);
}

/** The ownership file (config/ownership.json) and the body of `PUT /v1/ownership`. */
export const OwnershipConfig = z
  .object({
    owners: z.array(Owner).min(1, 'must list at least one owner'),
    rules: z.array(OwnershipRule).min(1, 'must list at least the default rule'),
  })
  .superRefine((config, ctx) => {
    const ids = new Set<string>();
    config.owners.forEach((owner, i) => {
      if (ids.has(owner.id)) ctx.addIssue({ code: 'custom', path: ['owners', i, 'id'], message: `duplicate owner "${owner.id}"` });
      ids.add(owner.id);
    });
    config.rules.forEach((rule, i) => {
      for (const field of ['owner', 'backup', 'escalation'] as const) {
        if (!ids.has(rule[field])) ctx.addIssue({ code: 'custom', path: ['rules', i, field], message: `unknown owner "${rule[field]}"` });
      }
    });
    const defaults = config.rules.map((rule, i) => (isDefaultRule(rule) ? i : -1)).filter((i) => i >= 0);
    if (defaults.length === 0) ctx.addIssue({ code: 'custom', path: ['rules'], message: 'must contain a default rule (one with no "match")' });
    for (const i of defaults.slice(1)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'match'], message: 'a second default rule; only one rule may have no "match"' });
  });
export type OwnershipConfig = z.infer<typeof OwnershipConfig>;
export type OwnershipConfigInput = z.input<typeof OwnershipConfig>;

/** Who is responsible for one exception, resolved from the rules when it opens. */
export const Responsibility = z.object({
  owner: Owner,
  backup: Owner,
  escalation: Owner,
  ackSlaSeconds: z.number().int().positive(),
  resolutionSlaSeconds: z.number().int().positive(),
  /** Everyone with the approver role, who may decide any exception. */
  approverIds: z.array(z.string()),
});
export type Responsibility = z.infer<typeof Responsibility>;
