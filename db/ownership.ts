import { asc, eq, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { OwnershipConfig, type Owner, type OwnershipConfigInput, type Responsibility } from '../schemas/ownership';
import type { Db } from './connection';
import { owners, ownershipRules } from './schema';

/** Replaces the rules (and adds or updates the owners) in one transaction. Owners are never deleted: old exceptions name them. */
export async function replaceOwnership(db: Db, input: OwnershipConfigInput): Promise<void> {
  const config = OwnershipConfig.parse(input);
  await db.transaction(async (tx) => {
    await tx
      .insert(owners)
      .values(config.owners)
      .onConflictDoUpdate({
        target: owners.id,
        set: { name: sql`excluded.name`, contact: sql`excluded.contact`, roles: sql`excluded.roles` },
      });
    await tx.delete(ownershipRules);
    await tx.insert(ownershipRules).values(
      config.rules.map((rule, position) => ({
        position,
        exceptionType: rule.match.exceptionType,
        skuPrefix: rule.match.skuPrefix,
        location: rule.match.location,
        supplierId: rule.match.supplierId,
        ownerId: rule.owner,
        backupId: rule.backup,
        escalationId: rule.escalation,
        ackSlaSeconds: rule.ackSla,
        resolutionSlaSeconds: rule.resolutionSla,
      })),
    );
  });
}

/** Loads the ownership file on first start; later edits go through the API and survive restarts. */
export async function loadOwnershipIfEmpty(db: Db, input: OwnershipConfigInput): Promise<boolean> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(ownershipRules);
  if (row.n > 0) return false;
  await replaceOwnership(db, input);
  return true;
}

export async function getOwnership(db: Db): Promise<OwnershipConfig> {
  const [ownerRows, ruleRows] = await Promise.all([
    db.select().from(owners).orderBy(asc(owners.id)),
    db.select().from(ownershipRules).orderBy(asc(ownershipRules.position)),
  ]);
  return {
    owners: ownerRows.map(toOwner),
    rules: ruleRows.map((r) => ({
      match: Object.fromEntries(
        Object.entries({ exceptionType: r.exceptionType, skuPrefix: r.skuPrefix, location: r.location, supplierId: r.supplierId }).filter(
          ([, v]) => v !== null,
        ),
      ),
      owner: r.ownerId,
      backup: r.backupId,
      escalation: r.escalationId,
      ackSla: r.ackSlaSeconds,
      resolutionSla: r.resolutionSlaSeconds,
    })),
  };
}

export interface ExceptionDomain {
  type: string;
  sku?: string;
  location?: string;
  supplierId?: string;
}

/** The most specific rule matching the exception (the default rule always matches). */
export async function resolveResponsibility(db: Db, domain: ExceptionDomain): Promise<Responsibility> {
  const owner = alias(owners, 'owner');
  const backup = alias(owners, 'backup');
  const escalation = alias(owners, 'escalation');
  const r = ownershipRules;
  const specificity = sql`(
    (${r.exceptionType} IS NOT NULL)::int + (${r.skuPrefix} IS NOT NULL)::int +
    (${r.location} IS NOT NULL)::int + (${r.supplierId} IS NOT NULL)::int)`;
  const [rule] = await db
    .select({ owner, backup, escalation, ackSlaSeconds: r.ackSlaSeconds, resolutionSlaSeconds: r.resolutionSlaSeconds })
    .from(r)
    .innerJoin(owner, eq(owner.id, r.ownerId))
    .innerJoin(backup, eq(backup.id, r.backupId))
    .innerJoin(escalation, eq(escalation.id, r.escalationId))
    .where(
      sql`(${r.exceptionType} IS NULL OR ${r.exceptionType} = ${domain.type})
      AND (${r.skuPrefix} IS NULL OR starts_with(${domain.sku ?? ''}, ${r.skuPrefix}))
      AND (${r.location} IS NULL OR ${r.location} = ${domain.location ?? null})
      AND (${r.supplierId} IS NULL OR ${r.supplierId} = ${domain.supplierId ?? null})`,
    )
    .orderBy(sql`${specificity} DESC`, asc(r.position))
    .limit(1);
  if (!rule) throw new Error('no ownership rule matches, and there is no default rule: load config/ownership.json');
  const approvers = await db.select({ id: owners.id }).from(owners).where(sql`'approver' = ANY(${owners.roles})`);
  return {
    owner: toOwner(rule.owner),
    backup: toOwner(rule.backup),
    escalation: toOwner(rule.escalation),
    ackSlaSeconds: rule.ackSlaSeconds,
    resolutionSlaSeconds: rule.resolutionSlaSeconds,
    approverIds: approvers.map((a) => a.id),
  };
}

export async function findOwner(db: Db, id: string): Promise<Owner | undefined> {
  const [row] = await db.select().from(owners).where(eq(owners.id, id));
  return row ? toOwner(row) : undefined;
}

function toOwner(row: typeof owners.$inferSelect): Owner {
  return { id: row.id, name: row.name, contact: row.contact, roles: row.roles as Owner['roles'] };
}
