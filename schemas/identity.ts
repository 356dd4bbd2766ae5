import { z } from 'zod';
import { DurationSeconds } from './duration';
import { OwnerId } from './ownership';

/**
 * What a principal may do. Hierarchical: each role holds every right of the roles before it, so
 * an approver also moves stock and an admin also decides. Who may decide WHICH exception is not a
 * role but the ownership rules: an approver decides only what the rules make it responsible for.
 */
export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/**
 * A principal's id is the name decisions are recorded under, so a person who owns exceptions has
 * the id of their owner entry (the ownership rules are their entitlement).
 */
export const PrincipalId = OwnerId;
export const PrincipalKind = z.enum(['user', 'service']);

/** The id the bootstrap token (STOCKFLOW_API_TOKEN) acts under; no stored principal may take it. */
export const BOOTSTRAP_PRINCIPAL_ID = 'bootstrap-admin';

export const NewPrincipal = z.object({
  id: PrincipalId.refine((id) => id !== BOOTSTRAP_PRINCIPAL_ID, `"${BOOTSTRAP_PRINCIPAL_ID}" is the bootstrap token's name`),
  kind: PrincipalKind.default('user'),
  name: z.string().trim().min(1, 'must not be empty').max(200),
  role: Role,
});
export type NewPrincipal = z.infer<typeof NewPrincipal>;

/** How long a new token lives (at most 90 days, the longest duration): a leaked one dies on its own. */
export const TokenRequest = z.object({ ttl: DurationSeconds.default(30 * 86400) });

/** A principal as the API shows it; tokens are never shown again after they are issued. */
export const PrincipalView = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  role: Role,
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  tokens: z.array(z.object({ tokenId: z.string(), createdAt: z.string(), expiresAt: z.string(), revokedAt: z.string().nullable() })),
});
export type PrincipalView = z.infer<typeof PrincipalView>;

export const IssuedToken = z.object({
  principalId: z.string(),
  tokenId: z.string(),
  expiresAt: z.string(),
  token: z.string().describe('shown once; only its SHA-256 is stored'),
});
export type IssuedToken = z.infer<typeof IssuedToken>;

/**
 * An upstream system that signs what it posts. Each has its own secret; a request signed by one
 * source is accepted only on the routes and for the records of that source.
 */
export const SourceId = z
  .string()
  .regex(/^(warehouse|supplier:[a-z0-9][a-z0-9._-]{0,63}|channel:[A-Za-z0-9][A-Za-z0-9._:@-]{0,39})$/, 'must be "warehouse", "supplier:<supplier id>" or "channel:<channel id>"');

/** The source a request claims to come from, read from the raw request before its schema runs. */
export const sourceOf = {
  warehouse: (): SourceId => 'warehouse',
  supplier: (supplierId: unknown): SourceId | undefined => (typeof supplierId === 'string' ? `supplier:${supplierId}` : undefined),
  channel: (channel: unknown): SourceId | undefined => (typeof channel === 'string' ? `channel:${channel}` : undefined),
};
export type SourceId = z.infer<typeof SourceId>;

/** Long enough that guessing is hopeless; a signing secret is as strong as its entropy. */
export const MIN_SECRET_LENGTH = 16;

/** The secrets file (STOCKFLOW_SOURCE_SECRETS_FILE): `{ "<source id>": "<secret>" }`. */
export const SourceSecrets = z.record(SourceId, z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`));
export type SourceSecrets = z.infer<typeof SourceSecrets>;

export const OidcSettings = z.object({
  issuer: z.string().min(1),
  audience: z.string().min(1),
  jwksUrl: z.url(),
  rolesClaim: z.string().min(1),
  idClaim: z.string().min(1),
});
export type OidcSettings = z.infer<typeof OidcSettings>;

/** Whether a decision sent as a signal (the Temporal UI's Send Signal) is accepted. */
export const UiDecisions = z.enum(['allow', 'deny']);
export type UiDecisions = z.infer<typeof UiDecisions>;
