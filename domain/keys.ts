/**
 * The key book: every workflow id, schedule id and idempotency key Stockflow builds. Workflow ids
 * are business keys, so a duplicate upstream event cannot start a second run; idempotency keys
 * are built from business identity, never from a per-run activity id, so a retry (or a run after
 * continue-as-new) finds the work it already did. A key format change is a change to this file.
 *
 * Pure: workflows import it as well as services, the database layer, the API and tests.
 */

/** Workflow ids. */
export const workflowIds = {
  stockMovement: (idempotencyKey: string) => `movement/${idempotencyKey}`,
  exception: (type: string, subject: string) => `exception/${type}/${subject}`,
  /** The SLA clock of one exception, a child of the exception's workflow. */
  slaClock: (exceptionWorkflowId: string) => `${exceptionWorkflowId}/sla-clock`,
  order: (channel: string, orderId: string) => `order/${channel}/${orderId}`,
  /** A cart's hold: its expiry timer; also the holder (order_ref) of the cart's reservations. */
  cart: (cartId: string) => `cart/${cartId}`,
  feed: (supplierId: string, feedId: string) => `feed/${supplierId}/${feedId}`,
  catalogueImport: (importId: string) => `catalogue-import/${importId}`,
  /** A reconciliation run on request; every request is a run of its own, so the id carries a nonce. */
  manualReconciliation: (at: Date, nonce: string) => `reconciliation/manual/${at.toISOString()}/${nonce}`,
  /** The one durable sync loop of a sales channel. */
  channelSync: (channelId: string) => `channel/${channelId}/sync`,
  /** The replenishment run of one UTC day. */
  replenishment: (day: string) => `replenishment/${day}`,
  /** The life of one purchase order, from raising its incoming to its last receipt or close. */
  purchaseOrder: (poNumber: string) => `purchase-order/${poNumber}`,
};

/** Schedules of one deployment, named after its task queue so deployments sharing a namespace keep theirs apart. */
export const scheduleIds = {
  dailyReconciliation: (taskQueue: string) => `${taskQueue}/daily-reconciliation`,
  reservationSweep: (taskQueue: string) => `${taskQueue}/reservation-sweep`,
  kpiAlerts: (taskQueue: string) => `${taskQueue}/kpi-alerts`,
  ownerDigest: (taskQueue: string) => `${taskQueue}/owner-digest`,
  channelDrift: (taskQueue: string) => `${taskQueue}/channel-drift`,
  replenishment: (taskQueue: string) => `${taskQueue}/replenishment`,
  abcClassification: (taskQueue: string) => `${taskQueue}/abc-classification`,
  countPlanning: (taskQueue: string) => `${taskQueue}/count-planning`,
};

/** Subjects: what an exception is about, unique per type while it is open. */
export const exceptionSubjects = {
  feed: (supplierId: string, feedId: string) => `${supplierId}/${feedId}`,
  feedLine: (supplierId: string, feedId: string, lineNo: number) => `${supplierId}/${feedId}/line-${lineNo}`,
  /** A problem of one order: `handoff`, `refund`, … */
  order: (channel: string, orderId: string, problem: string) => `${channel}/${orderId}/${problem}`,
  ledgerDelta: (sku: string, location: string) => `ledger:${sku}@${location}`,
  /**
   * By the reservation's idempotency key: a row id is one database's serial, so two databases
   * behind one Temporal namespace (the test suites; a staging copy) would join each other's exception.
   */
  orphanReservation: (reservationKey: string) => `orphan:${reservationKey}`,
  /** The subject before the reservation key named it (runs recorded before `orphan-subject-by-reservation-key`). */
  orphanReservationById: (reservationId: number) => `orphan:${reservationId}`,
  snapshotDelta: (sku: string, location: string) => `snapshot:${sku}@${location}`,
  /** A KPI over an alert rule's threshold; `scope` tells apart the sources of one rule. */
  kpiAlert: (ruleId: string, scope?: string) => `kpi:${ruleId}${scope ? `/${scope}` : ''}`,
  /** One per channel while it is open: every SKU left unpublished past the window is listed in it. */
  channelStale: (channelId: string) => `channel:${channelId}/stale`,
  /** What the channel shows for a SKU differs from what it should. */
  channelDrift: (channelId: string, sku: string) => `channel:${channelId}/drift:${sku}`,
  /** Shopify's figure moved for a reason we do not know (a CHANGE_FROM_QUANTITY_STALE we did not cause). */
  channelMoved: (channelId: string, sku: string) => `channel:${channelId}/moved:${sku}`,
  /** One run's purchase suggestion for one supplier, held for the buyer. */
  purchaseSuggestion: (runKey: string, supplierId: string) => `${runKey}/${supplierId}`,
  /** One location's count task of one working day, held for the counting owner. */
  countTask: (location: string, day: string) => `count:${location}/${day}`,
  /** A purchase order not received in full by its expected date plus the grace. */
  purchaseOrderLate: (poNumber: string) => `po:${poNumber}/late`,
};

/**
 * Purchase order numbers are business keys: an approved suggestion's is its run and supplier (a
 * retried approval finds the same order), never a serial. `PO-replenishment-2026-12-03-acme`.
 */
export const purchaseOrderNumbers = {
  fromSuggestion: (runKey: string, supplierId: string) => `PO-${runKey.replace(/[^A-Za-z0-9._-]/g, '-')}-${supplierId}`,
};

/** Order steps that touch one reserved line's stock. */
export type OrderLineStep = 'reserve' | 'commit' | 'ship' | 'release' | 'unpick';

/** Cart steps that touch one held part's stock. */
export type CartStep = 'reserve' | 'release' | 'expire';

/** Idempotency keys of stock operations and of side effects outside the database. */
export const idempotencyKeys = {
  orderLine: (orderWorkflowId: string, step: OrderLineStep, lineNo: number) => `${orderWorkflowId}/${step}/${lineNo}`,
  cartPart: (cartId: string, step: CartStep, partNo: number) => `cart/${cartId}/${step}/${partNo}`,
  /** Each hand-off attempt is new; the warehouse drops a repeat of the same attempt. */
  fulfilmentHandoff: (orderWorkflowId: string, attempt: number) => `${orderWorkflowId}/handoff/${attempt}`,
  feedLine: (supplierId: string, feedId: string, lineNo: number) => `feed/${supplierId}/${feedId}/${lineNo}`,
  /** A held feed line applied on a person's approval. */
  approvedFeedLine: (supplierId: string, feedId: string, lineNo: number) => `feed/${supplierId}/${feedId}/${lineNo}/approved`,
  /** The opening balance of one row of a catalogue import: a re-run chunk sets nothing twice. */
  openingBalance: (importId: string, row: number) => `catalogue-import/${importId}/opening/${row}`,
  sweepRelease: (reservationId: number) => `sweep/${reservationId}`,
  reconciliationRelease: (reservationId: number) => `reconciliation/release/${reservationId}`,
  reconciliationCorrection: (runKey: string, sku: string, location: string) => `${runKey}/correct/${sku}@${location}`,
  /** One reconciliation run: a scheduled run retried by Temporal keeps its run id, so it is one run. */
  reconciliationRun: (workflowId: string, runId: string) => `${workflowId}@${runId}`,
  /** One notice about one exception at one escalation level, on every channel. */
  notice: (workflowId: string, exceptionId: number, notice: number) => `${workflowId}#${exceptionId}/${notice}`,
  /** One owner's digest of one UTC day. */
  ownerDigest: (ownerId: string, day: string) => `digest/${ownerId}/${day}`,
  /**
   * One push of figures to a channel, by what it sets: the same SKUs at the same versions and
   * figures are the same push (Shopify's `@idempotent` key), however often it is retried.
   */
  channelPush: (channelId: string, digest: string) => `channel/${channelId}/push/${digest}`,
  /** One replenishment run per UTC day: a repeated or retried run of the day raises nothing twice. */
  replenishmentRun: (day: string) => `replenishment/${day}`,
  /** A purchase order line's units put into incoming (once, by its workflow or its first receipt). */
  purchaseOrderIncoming: (poNumber: string, lineNo: number) => `po/${poNumber}/incoming/${lineNo}`,
  /** One line of one receipt: a resent receipt id moves nothing twice. */
  purchaseOrderReceipt: (poNumber: string, receiptId: string, lineNo: number) => `po/${poNumber}/receipt/${receiptId}/${lineNo}`,
  /** A line's unreceived remainder taken out of incoming when the order is closed short. */
  purchaseOrderClose: (poNumber: string, lineNo: number) => `po/${poNumber}/close/${lineNo}`,
  /** The order as sent to the supplier's webhook: the supplier drops a repeat. */
  purchaseOrderSend: (poNumber: string) => `po/${poNumber}/send`,
  /** One count task: one location, one working day (its business key; the row id is a serial). */
  countTask: (location: string, day: string) => `count/${location}/${day}`,
  /** The cycle count a count task's line posts: one per task and SKU, however often it is resent. */
  countLine: (taskKey: string, sku: string) => `${taskKey}/${sku}`,
};
