import { ROLES, Role } from '../schemas/identity';

/** Who may call a route: anyone, an upstream system (HMAC-signed), or an operator (bearer token). */
export type Access = 'public' | 'upstream' | 'operator';

/** Each role holds every right of the roles before it (schemas/identity.ts ROLES). */
export function hasRole(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** The most powerful of some role names (an identity provider's claim); unknown names count for nothing. */
export function strongestRole(names: readonly unknown[]): Role | undefined {
  const known = names.filter((n): n is Role => Role.safeParse(n).success);
  return known.sort((a, b) => ROLES.indexOf(b) - ROLES.indexOf(a))[0];
}

/**
 * The role a route needs: the one it names, else what its access implies — none for public
 * routes, `viewer` to read and `operator` to change; an upstream route taken with a token (not a
 * signature) needs `operator`. Routes added without a role get a sensible one this way.
 */
export function requiredRole(route: { access: Access; method: string; role?: Role }): Role | undefined {
  if (route.role) return route.role;
  if (route.access === 'public') return undefined;
  if (route.access === 'operator' && (route.method === 'GET' || route.method === 'HEAD')) return 'viewer';
  return 'operator';
}

const FAILURE_WINDOW_MS = 60_000;
/** Addresses remembered at once; beyond it the oldest is forgotten, so a flood of addresses cannot exhaust memory. */
const MAX_TRACKED_ADDRESSES = 10_000;

/** Recent authentication failures per source address, in this process's memory. */
export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limit: number) {}

  private recent(address: string, now: number): number[] {
    const kept = (this.failures.get(address) ?? []).filter((at) => now - at < FAILURE_WINDOW_MS);
    if (kept.length === 0) this.failures.delete(address);
    else this.failures.set(address, kept);
    return kept;
  }

  record(address: string, now = Date.now()): void {
    const kept = this.recent(address, now);
    this.failures.delete(address);
    this.failures.set(address, [...kept, now]);
    if (this.failures.size > MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
  }

  /** Seconds until the address may try again, when it has used up its failures. */
  retryAfterSeconds(address: string, now = Date.now()): number | undefined {
    const kept = this.recent(address, now);
    if (kept.length < this.limit) return undefined;
    return Math.max(1, Math.ceil((kept[kept.length - this.limit] + FAILURE_WINDOW_MS - now) / 1000));
  }
}
