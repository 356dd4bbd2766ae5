import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../db/connection';
import { claimNotification } from '../db/exceptions';
import { ownerDigestFigures } from '../db/kpis';
import { digestText } from '../domain/alerts';
import type { Owner } from '../schemas/ownership';
import { idempotencyKeys } from '../domain/keys';

export interface NotifierConfig {
  /** Slack-compatible incoming webhook (or any endpoint taking JSON); unset means log only. */
  webhookUrl?: string;
  temporalUiUrl?: string;
  namespace: string;
  log?: (line: string) => void;
}

export interface Notification {
  exceptionId: number;
  workflowId: string;
  /** Delivered once per number: 0–2 are escalation levels (owner, backup, escalation contact), 100+ reassignments. */
  notice: number;
  recipient: Owner;
  /** Why they are told now: assigned, not acknowledged in time, not resolved in time. */
  reason: string;
  type: string;
  subject: string;
  summary: string;
  severity: string;
}

export function workflowLink(config: Pick<NotifierConfig, 'temporalUiUrl' | 'namespace'>, workflowId: string): string | undefined {
  if (!config.temporalUiUrl) return undefined;
  return `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

const LEVEL_NAMES = ['owner', 'backup', 'escalation contact'];

export function createNotifyActivities(db: Db, config: NotifierConfig) {
  const log = config.log ?? ((line: string) => console.log(line));
  return {
    /**
     * Tells one person about an exception, on every channel, at most once per exception, level
     * and channel. A failed webhook throws so the activity retries with backoff.
     */
    async notifyOwner(n: Notification): Promise<{ delivered: string[] }> {
      const link = workflowLink(config, n.workflowId);
      const text =
        `[Stockflow] ${n.severity.toUpperCase()} ${n.type} exception "${n.subject}" → ${n.recipient.name} (${LEVEL_NAMES[n.notice] ?? 'new assignee'}): ` +
        `${n.reason}. ${n.summary}${link ? ` — ${link}` : ''}`;
      const payload = {
        text,
        exception: { id: n.exceptionId, workflowId: n.workflowId, type: n.type, subject: n.subject, severity: n.severity, summary: n.summary },
        notice: n.notice,
        recipient: { id: n.recipient.id, name: n.recipient.name, contact: n.recipient.contact },
        reason: n.reason,
        link,
      };
      const delivered: string[] = [];
      const claim = (channel: string, deliver: () => Promise<void>) =>
        claimNotification(db, { exceptionId: n.exceptionId, level: n.notice, channel, recipientId: n.recipient.id, payload }, deliver);
      if (await claim('log', async () => log(text))) delivered.push('log');
      if (config.webhookUrl) {
        const url = config.webhookUrl;
        if (await claim('webhook', () => postWebhook(url, payload, idempotencyKeys.notice(n.workflowId, n.exceptionId, n.notice)))) delivered.push('webhook');
      }
      return { delivered };
    },

    /**
     * The daily digest: one message per owner with anything open, breached or changed in the day
     * before `at`. The webhook gets an idempotency key per owner and day, so a retry is dropped there.
     */
    async sendOwnerDigests(input: { at: string }): Promise<{ sent: number }> {
      const at = new Date(input.at);
      const day = at.toISOString().slice(0, 10);
      const owners = await ownerDigestFigures(db, new Date(at.getTime() - 86_400_000));
      for (const figures of owners) {
        const text = digestText(day, figures);
        log(text);
        if (config.webhookUrl) {
          const payload = { text, digest: { owner: { id: figures.ownerId, name: figures.ownerName, contact: figures.contact }, day, ...figures } };
          await postWebhook(config.webhookUrl, payload, idempotencyKeys.ownerDigest(figures.ownerId, day));
        }
      }
      return { sent: owners.length };
    },
  };
}

async function postWebhook(url: string, payload: unknown, idempotencyKey: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) {
    const retryable = response.status >= 500 || response.status === 429;
    throw ApplicationFailure.create({
      type: 'webhook_failed',
      message: `notification webhook answered ${response.status}`,
      nonRetryable: !retryable,
    });
  }
}
