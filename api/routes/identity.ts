import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addUser, listUsers, newToken, revokeOneToken, revokeUser } from '../../services/identity';
import { IssuedToken, NewPrincipal, PrincipalId, PrincipalView, Role, TokenRequest } from '../../schemas/identity';
import { actorOf } from '../access';
import { ErrorBody } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const IdParams = z.object({ id: PrincipalId });
const Whoami = z.object({ id: z.string(), kind: z.string(), role: Role.nullable() });

export function registerIdentityRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'GET',
      url: '/v1/whoami',
      summary: 'Who the credentials sent identify, and with which role',
      tags: ['identity'],
      access: 'operator',
      responses: { 200: { description: 'the principal', schema: Whoami } },
    },
    async ({ request }) => ({ id: request.principal?.id ?? 'anonymous', kind: request.principal?.kind ?? 'open', role: request.principal?.role ?? null }),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/principals',
      summary: 'Users and service accounts, with their tokens (ids and expiry only; a token is shown once, when issued)',
      tags: ['identity'],
      access: 'operator',
      role: 'admin',
      responses: { 200: { description: 'principals', schema: z.object({ principals: z.array(PrincipalView) }) } },
    },
    async () => ({ principals: await listUsers(services(deps)) }),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/principals',
      summary: 'Add a user or service account with a role (viewer, operator, approver, admin); a person who decides exceptions takes their owner id',
      tags: ['identity'],
      access: 'operator',
      role: 'admin',
      body: NewPrincipal,
      responses: { 201: { description: 'added', schema: PrincipalView }, 400: { description: 'invalid', schema: ErrorBody }, 409: { description: 'the id is taken', schema: ErrorBody } },
    },
    async ({ body, request, reply }) => reply.status(201).send(await addUser(services(deps), body, actorOf(request))),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/principals/:id/tokens',
      summary: 'Issue an API token (default lifetime 30d, at most 90d); the answer is the only time the token is shown',
      tags: ['identity'],
      access: 'operator',
      role: 'admin',
      params: IdParams,
      body: TokenRequest,
      responses: { 201: { description: 'issued', schema: IssuedToken }, 404: { description: 'no active principal', schema: ErrorBody } },
    },
    async ({ params, body, request, reply }) => reply.status(201).send(await newToken(services(deps), params.id, body.ttl, actorOf(request))),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/principals/:id/revoke',
      summary: 'Revoke a principal and every token it holds; its history stays',
      tags: ['identity'],
      access: 'operator',
      role: 'admin',
      params: IdParams,
      responses: { 200: { description: 'revoked', schema: z.object({ id: z.string(), revoked: z.literal(true) }) }, 404: { description: 'no such principal', schema: ErrorBody } },
    },
    async ({ params, request }) => revokeUser(services(deps), params.id, actorOf(request)),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/tokens/:tokenId/revoke',
      summary: 'Revoke one API token (by the id between "sf_" and the next "_")',
      tags: ['identity'],
      access: 'operator',
      role: 'admin',
      params: z.object({ tokenId: z.string().regex(/^[0-9a-f]{16}$/, 'must be the 16 hex digits of a token id') }),
      responses: { 200: { description: 'revoked', schema: z.object({ tokenId: z.string(), revoked: z.literal(true) }) }, 404: { description: 'no such token', schema: ErrorBody } },
    },
    async ({ params, request }) => revokeOneToken(services(deps), params.tokenId, actorOf(request)),
  );
}
