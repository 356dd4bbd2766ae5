import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { asc, eq, isNull, sql } from 'drizzle-orm';
import type { IssuedToken, NewPrincipal, PrincipalView, Role } from '../schemas/identity';
import type { Db } from './connection';
import { auditLog, principals, principalTokens } from './schema';

/** `sf_<token id>_<secret>`: the id finds the row, the secret is checked against its hash. */
const TOKEN_FORMAT = /^sf_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function isApiTokenFormat(token: string): boolean {
  return TOKEN_FORMAT.test(token);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface StoredPrincipal {
  id: string;
  kind: string;
  role: Role;
}

/** Adds a principal; false when one with that id exists already (it is left as it was). */
export async function addPrincipal(db: Db, principal: NewPrincipal, by: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(principals).values(principal).onConflictDoNothing().returning({ id: principals.id });
    if (!row) return false;
    await tx.insert(auditLog).values({ actor: by, action: 'principal.add', subjectType: 'principal', subjectId: principal.id, details: { kind: principal.kind, role: principal.role } });
    return true;
  });
}

export async function listPrincipals(db: Db): Promise<PrincipalView[]> {
  const [rows, tokens] = await Promise.all([
    db.select().from(principals).orderBy(asc(principals.id)),
    db.select().from(principalTokens).orderBy(asc(principalTokens.createdAt)),
  ]);
  return rows.map((p) => ({
    id: p.id,
    kind: p.kind,
    name: p.name,
    role: p.role as Role,
    createdAt: p.createdAt.toISOString(),
    revokedAt: p.revokedAt?.toISOString() ?? null,
    tokens: tokens
      .filter((t) => t.principalId === p.id)
      .map((t) => ({ tokenId: t.id, createdAt: t.createdAt.toISOString(), expiresAt: t.expiresAt.toISOString(), revokedAt: t.revokedAt?.toISOString() ?? null })),
  }));
}

/** A new token for an active principal, or undefined when there is none. The token itself is returned once and never stored. */
export async function issueToken(db: Db, principalId: string, ttlSeconds: number, by: string): Promise<IssuedToken | undefined> {
  const tokenId = randomBytes(8).toString('hex');
  const token = `sf_${tokenId}_${randomBytes(32).toString('base64url')}`;
  return db.transaction(async (tx) => {
    const [principal] = await tx.select().from(principals).where(eq(principals.id, principalId)).for('update');
    if (!principal || principal.revokedAt) return undefined;
    const [row] = await tx
      .insert(principalTokens)
      .values({ id: tokenId, principalId, tokenHash: sha256(token), expiresAt: sql`now() + make_interval(secs => ${ttlSeconds})` })
      .returning({ expiresAt: principalTokens.expiresAt });
    await tx.insert(auditLog).values({ actor: by, action: 'principal.token', subjectType: 'principal', subjectId: principalId, details: { tokenId, expiresAt: row.expiresAt.toISOString() } });
    return { principalId, tokenId, expiresAt: row.expiresAt.toISOString(), token };
  });
}

/** Revokes a principal and every token it has; false when there is no such principal. */
export async function revokePrincipal(db: Db, principalId: string, by: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(principals)
      .set({ revokedAt: sql`coalesce(${principals.revokedAt}, now())` })
      .where(eq(principals.id, principalId))
      .returning({ id: principals.id });
    if (!row) return false;
    await tx.update(principalTokens).set({ revokedAt: sql`now()` }).where(sql`${principalTokens.principalId} = ${principalId} AND ${principalTokens.revokedAt} IS NULL`);
    await tx.insert(auditLog).values({ actor: by, action: 'principal.revoke', subjectType: 'principal', subjectId: principalId, details: {} });
    return true;
  });
}

/** Revokes one token; false when there is no such token. */
export async function revokeToken(db: Db, tokenId: string, by: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(principalTokens)
      .set({ revokedAt: sql`coalesce(${principalTokens.revokedAt}, now())` })
      .where(eq(principalTokens.id, tokenId))
      .returning({ principalId: principalTokens.principalId });
    if (!row) return false;
    await tx.insert(auditLog).values({ actor: by, action: 'principal.token.revoke', subjectType: 'principal', subjectId: row.principalId, details: { tokenId } });
    return true;
  });
}

/** The principal a token belongs to, when the token is known, unexpired and unrevoked, and so is its principal. */
export async function principalForToken(db: Db, token: string): Promise<StoredPrincipal | undefined> {
  const match = TOKEN_FORMAT.exec(token);
  if (!match) return undefined;
  const [row] = await db
    .select({ id: principals.id, kind: principals.kind, role: principals.role, tokenHash: principalTokens.tokenHash })
    .from(principalTokens)
    .innerJoin(principals, eq(principals.id, principalTokens.principalId))
    .where(sql`${principalTokens.id} = ${match[1]} AND ${principalTokens.revokedAt} IS NULL AND ${principals.revokedAt} IS NULL AND ${principalTokens.expiresAt} > now()`);
  if (!row) return undefined;
  const given = Buffer.from(sha256(token), 'hex');
  if (!timingSafeEqual(given, Buffer.from(row.tokenHash, 'hex'))) return undefined;
  return { id: row.id, kind: row.kind, role: row.role as Role };
}

/** Whether any principal is active: once one is, the API asks every caller who it is. */
export async function anyActivePrincipal(db: Db): Promise<boolean> {
  const [row] = await db.select({ id: principals.id }).from(principals).where(isNull(principals.revokedAt)).limit(1);
  return row !== undefined;
}
