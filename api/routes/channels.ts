import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ChannelId, ChannelRegistration, ChannelStatus } from '../../schemas/channels';
import { channelStatus, listChannels, registerChannel, resyncChannel } from '../../services/channels';
import { ErrorBody } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const ChannelParams = z.object({ id: ChannelId });

export function registerChannelRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'POST',
      url: '/v1/channels',
      summary: 'Register a sales channel (or replace its configuration): kind, feeding locations, buffer rule, SKU mapping, owner, secret reference',
      tags: ['channels'],
      access: 'operator',
      role: 'admin',
      body: ChannelRegistration,
      responses: {
        201: { description: 'registered; its sync loop runs and every mapped SKU is being published', schema: ChannelStatus },
        400: { description: 'invalid channel, or an unknown SKU or location', schema: ErrorBody },
        404: { description: 'unknown owner', schema: ErrorBody },
      },
    },
    async ({ body, reply }) => reply.status(201).send(await registerChannel(services(deps), body)),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/channels',
      summary: 'Every sales channel with its sync status',
      tags: ['channels'],
      access: 'operator',
      responses: { 200: { description: 'channels', schema: z.object({ channels: z.array(ChannelStatus) }) } },
    },
    async () => ({ channels: await listChannels(services(deps)) }),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/channels/:id',
      summary: "A channel's sync status: lag (oldest unpublished change), last push, pending SKUs, errors",
      tags: ['channels'],
      access: 'operator',
      params: ChannelParams,
      responses: { 200: { description: 'the channel', schema: ChannelStatus }, 404: { description: 'no such channel', schema: ErrorBody } },
    },
    async ({ params }) => channelStatus(services(deps), params.id),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/channels/:id/resync',
      summary: 'Publish every mapped SKU of the channel again, under a version newer than any sent',
      tags: ['channels'],
      access: 'operator',
      params: ChannelParams,
      body: z.strictObject({}).optional(),
      responses: { 200: { description: 'every mapped SKU is pending', schema: ChannelStatus }, 404: { description: 'no such channel', schema: ErrorBody } },
    },
    async ({ params }) => resyncChannel(services(deps), params.id),
  );
}
