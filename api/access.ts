import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { recordAudits, type AuditEntry } from '../db/audit';
import { BatchLanes } from '../services/batch-lanes';
import type { Database } from '../db/connection';
import { anyActivePrincipal, isApiTokenFormat, principalForToken } from '../db/principals';
import { FailureThrottle, hasRole, requiredRole, strongestRole, type Access } from '../domain/access';
import { BOOTSTRAP_PRINCIPAL_ID, PrincipalId, type OidcSettings, type Role, type SourceSecrets } from '../schemas/identity';
import { SIGNATURE_HEADER, signatureProblem } from './auth';
import { HttpError } from './errors';

/**
 * Who is calling. `open` is the caller of an API with no credentials configured at all (local
 * development); `source` is an upstream system that signed its request with its own secret.
 */
export interface Principal {
  id: string;
  kind: 'open' | 'bootstrap' | 'user' | 'service' | 'oidc' | 'source';
  role?: Role;
}

const OPEN: Principal = { id: 'anonymous', kind: 'open', role: 'admin' };

export interface AccessSettings {
  /** The bootstrap admin token. */
  apiToken?: string;
  /** The fallback signing secret for sources that have none of their own. */
  webhookSecret?: string;
  sourceSecrets?: SourceSecrets;
  oidc?: OidcSettings;
  /** Failed authentications from one address per minute before it is answered 429. */
  authFailureLimit: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** Set when the write's audit row was committed with the write itself (writeAudit): onSend records none. */
    writeAudited?: boolean;
  }
  interface FastifyContextConfig {
    role?: Role;
    source?: (request: FastifyRequest) => string | undefined;
    principalField?: 'by';
  }
}

/** Who a write is recorded as: the authenticated principal (never a name the request chose). */
export function actorOf(request: FastifyRequest): string {
  return request.principal?.id ?? 'anonymous';
}

/** A person or service account (not the open API, not a signing source): it acts under its own id. */
export function isPerson(principal: Principal | undefined): principal is Principal {
  return principal !== undefined && principal.kind !== 'open' && principal.kind !== 'source';
}

type Checked = { principal: Principal } | { status: 401 | 403; problem: string; actor?: string };

/**
 * Authenticates and authorises every request before its handler runs: bearer tokens (bootstrap,
 * stored API tokens, OIDC JWTs), per-source HMAC signatures, the route's role, and the rule that
 * a person acts only as themselves. Every refusal is audited; failed authentications are throttled.
 */
export class AccessControl {
  private readonly throttle: FailureThrottle;
  /**
   * Audit rows written together: under a rush every accepted request waits for its row before its
   * answer goes out, and one insert and one commit for the rows of all the requests in flight keeps
   * that wait short and the pool's connections free.
   */
  private readonly audits: BatchLanes<AuditEntry, undefined>;
  private readonly jwks?: JWTVerifyGetKey;
  private principalsExist = false;

  constructor(
    private readonly database: Database,
    private readonly settings: AccessSettings,
  ) {
    this.throttle = new FailureThrottle(settings.authFailureLimit);
    this.audits = new BatchLanes(1, 500, async (entries) => {
      await recordAudits(database.sql, entries);
      return entries.map(() => undefined);
    });
    if (settings.oidc) this.jwks = createRemoteJWKSet(new URL(settings.oidc.jwksUrl));
  }

  async check(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const config = request.routeOptions.config;
    const access = config.access ?? 'public';
    if (access === 'public') return;
    const retryAfter = this.throttle.retryAfterSeconds(request.ip);
    if (retryAfter !== undefined) {
      await this.audit(request, 'anonymous', 'api.throttled', `too many failed authentications from this address; retry after ${retryAfter}s`);
      reply.header('retry-after', String(retryAfter));
      throw new HttpError(429, { error: 'too_many_requests', message: `too many failed authentications from this address: retry after ${retryAfter}s` });
    }
    const checked = await this.authorise(request, access);
    if ('problem' in checked) {
      if (checked.status === 401) this.throttle.record(request.ip);
      await this.audit(request, checked.actor ?? 'anonymous', checked.status === 401 ? 'api.unauthorized' : 'api.forbidden', checked.problem);
      throw new HttpError(checked.status, { error: checked.status === 401 ? 'unauthorized' : 'forbidden', message: checked.problem });
    }
    request.principal = checked.principal;
    await this.actAsPrincipal(request, checked.principal);
  }

  /** A person acts as themselves: a `by` naming someone else is refused; a route that records who acted gets the principal's id. */
  private async actAsPrincipal(request: FastifyRequest, principal: Principal): Promise<void> {
    if (!isPerson(principal)) return;
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
    const fields = body as Record<string, unknown>;
    if (fields.by !== undefined && fields.by !== principal.id) {
      const problem = `by: you are authenticated as ${principal.id} and cannot act as ${JSON.stringify(fields.by).slice(0, 80)}`;
      await this.audit(request, principal.id, 'api.impersonation', problem);
      throw new HttpError(403, { error: 'forbidden', message: problem, issues: [{ field: 'by', reason: `must be ${principal.id} (the authenticated principal) or left out` }] });
    }
    if (request.routeOptions.config.principalField === 'by') fields.by = principal.id;
  }

  private async authorise(request: FastifyRequest, access: Exclude<Access, 'public'>): Promise<Checked> {
    const config = request.routeOptions.config;
    const role = requiredRole({ access, method: request.method, role: config.role }) as Role;
    const bearer = await this.bearerPrincipal(request.headers.authorization);
    if ('problem' in bearer) return bearer;
    if (access === 'upstream' && request.headers[SIGNATURE_HEADER] !== undefined) return this.signedSource(request);
    const principal = bearer.principal ?? (await this.unauthenticated(access));
    if (!principal) {
      return { status: 401, problem: access === 'upstream' ? `missing ${SIGNATURE_HEADER} header (or an operator's Authorization: Bearer token)` : 'missing Authorization: Bearer <token> header' };
    }
    if (!principal.role) return { status: 403, problem: `${principal.id} has no Stockflow role`, actor: principal.id };
    if (!hasRole(principal.role, role)) {
      return { status: 403, problem: `${principal.id} has the role ${principal.role}; ${request.method} ${request.routeOptions.url} needs ${role}`, actor: principal.id };
    }
    return { principal };
  }

  /** The caller when nobody presented credentials: the open principal while the API has none configured, else nobody. */
  private async unauthenticated(access: Exclude<Access, 'public'>): Promise<Principal | undefined> {
    if (access === 'upstream') return this.upstreamEnforced() ? undefined : OPEN;
    return (await this.operatorsEnforced()) ? undefined : OPEN;
  }

  private upstreamEnforced(): boolean {
    return this.settings.webhookSecret !== undefined || Object.keys(this.settings.sourceSecrets ?? {}).length > 0;
  }

  /** Operator routes ask for credentials once any are configured: a bootstrap token, OIDC, or a stored principal. */
  private async operatorsEnforced(): Promise<boolean> {
    if (this.settings.apiToken || this.settings.oidc || this.principalsExist) return true;
    this.principalsExist = await anyActivePrincipal(this.database.db);
    return this.principalsExist;
  }

  private async bearerPrincipal(authorization: string | undefined): Promise<{ principal?: Principal } | { status: 401; problem: string }> {
    if (authorization === undefined) return {};
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return { status: 401, problem: 'Authorization header must be "Bearer <token>"' };
    const token = match[1];
    if (this.settings.apiToken && sameText(token, this.settings.apiToken)) return { principal: { id: BOOTSTRAP_PRINCIPAL_ID, kind: 'bootstrap', role: 'admin' } };
    if (isApiTokenFormat(token)) {
      const stored = await principalForToken(this.database.db, token);
      if (stored) return { principal: { id: stored.id, kind: stored.kind as 'user' | 'service', role: stored.role } };
      return { status: 401, problem: 'token is not valid (unknown, expired or revoked)' };
    }
    if (this.settings.oidc && this.jwks && token.split('.').length === 3) return this.oidcPrincipal(token, this.settings.oidc, this.jwks);
    if (!(await this.operatorsEnforced())) return {};
    return { status: 401, problem: 'token is not valid' };
  }

  private async oidcPrincipal(token: string, oidc: OidcSettings, jwks: JWTVerifyGetKey): Promise<{ principal: Principal } | { status: 401; problem: string }> {
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: oidc.issuer, audience: oidc.audience, requiredClaims: ['exp'] });
      const id = PrincipalId.safeParse(payload[oidc.idClaim]);
      if (!id.success) return { status: 401, problem: `the token's ${oidc.idClaim} claim is not a usable principal id` };
      const claim = payload[oidc.rolesClaim];
      const names = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/[\s,]+/) : [];
      return { principal: { id: id.data, kind: 'oidc', role: strongestRole(names) } };
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'ERR_JWT_INVALID';
      return { status: 401, problem: `the identity provider's token is not valid (${code})` };
    }
  }

  /** A signed upstream request: only the secret of the source the request is about (or the fallback, when that source has none) is accepted. */
  private signedSource(request: FastifyRequest): Checked {
    const source = request.routeOptions.config.source?.(request);
    const secret = (source !== undefined ? this.settings.sourceSecrets?.[source] : undefined) ?? this.settings.webhookSecret;
    const name = source ?? 'upstream';
    if (!secret) {
      if (!this.upstreamEnforced()) return { principal: OPEN };
      return { status: 401, problem: `no signing secret is configured for ${name}` };
    }
    const problem = signatureProblem(secret, request.headers, request.rawBody ?? '');
    if (problem) return { status: 401, problem: `${problem} (signed as ${name}?)` };
    return { principal: { id: `source:${name}`, kind: 'source' } };
  }

  /** Every accepted change names who made it: in the write's own transaction where its route did so, else before the answer goes out. */
  async recordWrite(request: FastifyRequest, statusCode: number): Promise<void> {
    const entry = request.writeAudited ? undefined : writeAudit(request, statusCode);
    if (entry) await this.audits.submit('', entry);
  }

  private async audit(request: FastifyRequest, actor: string, action: string, reason: string): Promise<void> {
    await this.audits.submit('', {
      actor,
      action,
      subjectType: 'http_request',
      subjectId: `${request.method} ${request.routeOptions.url ?? request.url}`,
      details: { reason, ip: request.ip },
    });
  }
}

/**
 * The audit row of an accepted write (none for a read, a refusal or a request nobody was
 * authenticated for). A route whose service commits it with the write passes it down and sets
 * `request.writeAudited`.
 */
export function writeAudit(request: FastifyRequest, statusCode: number): AuditEntry | undefined {
  const principal = request.principal;
  if (!principal || request.method === 'GET' || request.method === 'HEAD' || statusCode >= 300) return undefined;
  return {
    actor: principal.id,
    action: 'api.write',
    subjectType: 'http_request',
    subjectId: `${request.method} ${request.routeOptions.url ?? request.url}`,
    details: { path: request.url.split('?')[0], status: statusCode, via: principal.kind },
  };
}

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
