import { addPrincipal, issueToken, listPrincipals, revokePrincipal, revokeToken } from '../db/principals';
import { Refusal } from '../domain/refusal';
import type { IssuedToken, NewPrincipal, PrincipalView } from '../schemas/identity';
import type { Services } from './context';

/** Adds a user or service account; refused when the id is taken (ids are never reused: audit rows name them). */
export async function addUser(s: Pick<Services, 'db'>, principal: NewPrincipal, by: string): Promise<PrincipalView> {
  if (!(await addPrincipal(s.db, principal, by))) throw new Refusal('principal_exists', `a principal "${principal.id}" exists already`, 'id');
  return (await listPrincipals(s.db)).find((p) => p.id === principal.id) as PrincipalView;
}

export function listUsers(s: Pick<Services, 'db'>): Promise<PrincipalView[]> {
  return listPrincipals(s.db);
}

/** A new API token, shown once. */
export async function newToken(s: Pick<Services, 'db'>, principalId: string, ttlSeconds: number, by: string): Promise<IssuedToken> {
  const issued = await issueToken(s.db, principalId, ttlSeconds, by);
  if (!issued) throw new Refusal('not_found', `no active principal "${principalId}"`, 'id');
  return issued;
}

/** Revokes a principal with all its tokens; its history stays. */
export async function revokeUser(s: Pick<Services, 'db'>, principalId: string, by: string): Promise<{ id: string; revoked: true }> {
  if (!(await revokePrincipal(s.db, principalId, by))) throw new Refusal('not_found', `no principal "${principalId}"`, 'id');
  return { id: principalId, revoked: true };
}

export async function revokeOneToken(s: Pick<Services, 'db'>, tokenId: string, by: string): Promise<{ tokenId: string; revoked: true }> {
  if (!(await revokeToken(s.db, tokenId, by))) throw new Refusal('not_found', `no token "${tokenId}"`, 'tokenId');
  return { tokenId, revoked: true };
}
