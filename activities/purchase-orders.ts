import { ApplicationFailure } from '@temporalio/common';
import { signedHeaders } from '../api/auth';
import { httpProblem, networkProblem } from '../channels/adapter';
import type { Db } from '../db/connection';
import { checkLate, markSent, raiseOrderIncoming, supplierOrderOf } from '../db/purchase-orders';
import { idempotencyKeys } from '../domain/keys';
import { sourceOf, type SourceSecrets } from '../schemas/identity';

const SEND_TIMEOUT_MS = 10_000;

/** Signing secrets: each supplier's own (`supplier:<id>` in STOCKFLOW_SOURCE_SECRETS_FILE), else the shared webhook secret. */
export interface SigningSecrets {
  sourceSecrets?: SourceSecrets;
  webhookSecret?: string;
}

/** A purchase order's workflow: thin over db/purchase-orders.ts, plus the POST to the supplier. */
export function createPurchaseOrderActivities(db: Db, secrets: SigningSecrets) {
  return {
    raisePurchaseOrderIncoming: (poNumber: string) => raiseOrderIncoming(db, poNumber),

    /** The order's status, and the exception to raise when it is still open (it is late). */
    checkPurchaseOrderLate: (poNumber: string) => checkLate(db, poNumber),

    /**
     * POSTs the order as JSON to the supplier's order webhook, signed as our webhooks are
     * (api/auth.ts), with the order's idempotency key so the supplier drops a repeat. Any non-2xx
     * throws and Temporal retries; a supplier without a webhook is not sent to.
     */
    async sendPurchaseOrder(poNumber: string): Promise<{ sent: boolean }> {
      const found = await supplierOrderOf(db, poNumber);
      if (!found?.webhookUrl) return { sent: false };
      if (found.sent) return { sent: true };
      const secret = secrets.sourceSecrets?.[sourceOf.supplier(found.order.supplierId) as string] ?? secrets.webhookSecret;
      if (!secret) {
        throw ApplicationFailure.create({ type: 'no_signing_secret', message: `no signing secret for supplier:${found.order.supplierId} (STOCKFLOW_SOURCE_SECRETS_FILE) and no STOCKFLOW_WEBHOOK_SECRET`, nonRetryable: true });
      }
      const body = JSON.stringify(found.order);
      let response: Response;
      try {
        response = await fetch(found.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKeys.purchaseOrderSend(poNumber), ...signedHeaders(secret, body) },
          body,
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        });
      } catch (error) {
        throw new Error(`sending ${poNumber} to ${found.order.supplierId}: ${networkProblem(error)}`);
      }
      if (!response.ok) throw new Error(`sending ${poNumber} to ${found.order.supplierId}: ${await httpProblem(response)}`);
      await response.body?.cancel();
      await markSent(db, poNumber);
      return { sent: true };
    },
  };
}
