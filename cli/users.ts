import type { Command } from 'commander';
import { apiClientFor as client, reportFailure as fail } from './api-client';
import { formatTable } from './format';

interface PrincipalRow {
  id: string;
  kind: string;
  role: string;
  name: string;
  revokedAt: string | null;
  tokens: { tokenId: string; expiresAt: string; revokedAt: string | null }[];
}

export function formatPrincipals(rows: PrincipalRow[], now = Date.now()): string {
  if (rows.length === 0) return 'no users';
  const header = ['id', 'kind', 'role', 'status', 'live tokens', 'name'];
  return formatTable(
    header,
    rows.map((p) => [
      p.id,
      p.kind,
      p.role,
      p.revokedAt ? `revoked ${p.revokedAt.slice(0, 10)}` : 'active',
      String(p.tokens.filter((t) => !t.revokedAt && Date.parse(t.expiresAt) > now).length),
      p.name,
    ]),
  );
}

/** `stockflow users …`: principals and their API tokens (needs an admin token in STOCKFLOW_API_TOKEN). */
export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('users and service accounts, their roles and API tokens (admin)');

  users
    .command('add')
    .description('add a user or service account')
    .argument('<id>', 'principal id; a person who decides exceptions takes their owner id')
    .requiredOption('--role <role>', 'viewer, operator, approver or admin')
    .option('--name <name>', 'display name (default: the id)')
    .option('--service', 'a service account rather than a person')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (id: string, options: { role: string; name?: string; service?: boolean; api?: string }) => {
      const response = await client(options).send('POST', '/v1/principals', { id, role: options.role, name: options.name ?? id, kind: options.service ? 'service' : 'user' });
      if (response.status !== 201) return fail(response);
      console.log(`added ${response.body.kind} ${response.body.id} (${response.body.role}); issue a token with \`stockflow users token ${id}\``);
    });

  users
    .command('list')
    .description('list users and service accounts')
    .option('--api <url>', 'Stockflow API base URL')
    .option('--json', 'print the raw JSON')
    .action(async (options: { api?: string; json?: boolean }) => {
      const response = await client(options).get('/v1/principals');
      if (response.status !== 200) return fail(response);
      console.log(options.json ? JSON.stringify(response.body, null, 2) : formatPrincipals(response.body.principals));
    });

  users
    .command('token')
    .description('issue an API token; it is printed once and only its hash is kept')
    .argument('<id>', 'principal id')
    .option('--ttl <duration>', 'lifetime, e.g. 12h or 30d (at most 90d)', '30d')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (id: string, options: { ttl: string; api?: string }) => {
      const response = await client(options).send('POST', `/v1/principals/${encodeURIComponent(id)}/tokens`, { ttl: options.ttl });
      if (response.status !== 201) return fail(response);
      console.log(`token for ${id} (id ${response.body.tokenId}, expires ${response.body.expiresAt}); it is not shown again:`);
      console.log(response.body.token);
    });

  users
    .command('revoke')
    .description('revoke a user with all its tokens, or one token with --token')
    .argument('[id]', 'principal id')
    .option('--token <tokenId>', 'revoke only this token (the 16 hex digits after "sf_")')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (id: string | undefined, options: { token?: string; api?: string }) => {
      if (!id && !options.token) throw new Error('name a principal id, or a token with --token');
      const path = options.token ? `/v1/tokens/${encodeURIComponent(options.token)}/revoke` : `/v1/principals/${encodeURIComponent(id as string)}/revoke`;
      const response = await client(options).send('POST', path, {});
      if (response.status !== 200) return fail(response);
      console.log(options.token ? `token ${options.token} revoked` : `${id} and all its tokens revoked`);
    });
}
