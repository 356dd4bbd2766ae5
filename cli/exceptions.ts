import type { Command } from 'commander';
import { apiClientFor as client, reportFailure as fail } from './api-client';
import { formatTable } from './format';

interface Row {
  id: number;
  status: string;
  severity: string;
  type: string;
  subject: string;
  assigneeId: string;
  escalationLevel: number;
  openedAt: string;
  summary: string;
}

export function formatExceptionRows(rows: Row[]): string {
  if (rows.length === 0) return 'no exceptions match';
  const header = ['id', 'status', 'severity', 'type', 'subject', 'assignee', 'level', 'opened', 'summary'];
  return formatTable(
    header,
    rows.map((r) => [String(r.id), r.status, r.severity, r.type, r.subject, r.assigneeId, String(r.escalationLevel), r.openedAt.slice(0, 19), r.summary]),
  );
}

/** `stockflow exceptions …`: the operator's queue, from the terminal. */
export function registerExceptionCommands(program: Command): void {
  const exceptions = program.command('exceptions').description('list, show and decide exceptions (the operator queue)');

  exceptions
    .command('list')
    .description('list exceptions, newest first')
    .option('--status <status>', 'open, acknowledged, approved or rejected')
    .option('--owner <id>', 'assigned to this owner')
    .option('--type <type>', 'exception type')
    .option('--sku <sku>', 'about this SKU')
    .option('--api <url>', 'Stockflow API base URL')
    .option('--json', 'print the raw JSON')
    .action(async (options: { status?: string; owner?: string; type?: string; sku?: string; api?: string; json?: boolean }) => {
      const query = new URLSearchParams(
        Object.entries({ status: options.status, owner: options.owner, type: options.type, sku: options.sku }).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const response = await client(options).get(`/v1/exceptions?${query}`);
      if (response.status !== 200) return fail(response);
      console.log(options.json ? JSON.stringify(response.body, null, 2) : formatExceptionRows(response.body.exceptions));
    });

  exceptions
    .command('show')
    .description('one exception with its history')
    .argument('<id>', 'exception id (from `list`)')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (id: string, options: { api?: string }) => {
      const response = await client(options).get(`/v1/exceptions/${encodeURIComponent(id)}`);
      if (response.status !== 200) return fail(response);
      const { exception: e, history } = response.body;
      console.log(`${formatExceptionRows([e])}\n`);
      console.log(`owner ${e.ownerId}; held change: ${e.heldChange ? JSON.stringify(e.heldChange) : 'none'}${e.requiresEvidence ? ' (approval needs --evidence)' : ''}`);
      console.log(`context: ${JSON.stringify(e.context)}\n`);
      for (const h of history) {
        console.log(`${h.at.slice(0, 19)}  ${h.action.padEnd(11)} ${h.outcome.padEnd(8)} by ${h.actor}${h.reason ? `: ${h.reason}` : ''}${h.details?.refusal ? ` — refused: ${h.details.refusal}` : ''}`);
      }
    });

  const decision = (name: string, action: string, description: string, extra?: (cmd: Command) => Command) => {
    let cmd = exceptions
      .command(name)
      .description(description)
      .argument('<id>', 'exception id (from `list`)')
      .option('--by <owner>', 'who decides; default and only choice: the principal your STOCKFLOW_API_TOKEN identifies (anything else is refused)')
      .option('--reason <text>', 'why', action === 'acknowledge' ? 'acknowledged' : undefined)
      .option('--api <url>', 'Stockflow API base URL');
    if (extra) cmd = extra(cmd);
    cmd.action(async (id: string, options: { by?: string; reason?: string; evidence?: string; to?: string; api?: string }) => {
      const body = { action, by: options.by, reason: options.reason, evidence: options.evidence, to: options.to };
      const response = await client(options).post(`/v1/exceptions/${encodeURIComponent(id)}/decisions`, body, 'operator');
      if (response.status !== 200) return fail(response);
      console.log(`exception ${id}: ${action} accepted; status ${response.body.status}`);
    });
  };
  decision('ack', 'acknowledge', 'acknowledge: you are on it (stops the acknowledgement clock)');
  decision('approve', 'approve', 'approve: apply the held change', (cmd) => cmd.option('--evidence <text>', 'evidence, required when approval overrides a policy'));
  decision('reject', 'reject', 'reject: discard the held change');
  decision('reassign', 'reassign', 'give the exception to another owner', (cmd) => cmd.requiredOption('--to <owner>', 'the new owner'));
  decision('comment', 'comment', 'add a note to the history');
}
