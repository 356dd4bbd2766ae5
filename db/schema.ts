import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/**
 * `allow_negative` is the item's policy. It is copied down to variants and balances through
 * composite foreign keys with ON UPDATE CASCADE, so a plain CHECK on the balance row can enforce
 * it without a trigger or a lookup on the hot path.
 */
export const items = pgTable(
  'items',
  {
    id: serial('id').primaryKey(),
    /** The shop's own key for the product (Shopify's handle); imports match items by it. */
    handle: text('handle').unique(),
    name: text('name').notNull(),
    vendor: text('vendor'),
    allowNegative: boolean('allow_negative').notNull().default(false),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** An item with ledger history is archived, never deleted. */
    archivedAt: timestamp('archived_at', { withTimezone: true }),
  },
  (t) => [unique('items_id_policy').on(t.id, t.allowNegative), index('items_tags_idx').using('gin', t.tags)],
);

export const variants = pgTable(
  'variants',
  {
    id: serial('id').primaryKey(),
    itemId: integer('item_id').notNull(),
    sku: text('sku').notNull().unique(),
    allowNegative: boolean('allow_negative').notNull().default(false),
    barcode: text('barcode'),
    /** Option name → value, e.g. `{"Size": "42", "Colour": "Black"}`. */
    options: jsonb('options').notNull().default({}),
    unitOfMeasure: text('unit_of_measure').notNull().default('each'),
    /** Base units in one sellable pack. */
    packSize: integer('pack_size').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** Archived variants keep their history; new reservations are refused (`sku_archived`). */
    archivedAt: timestamp('archived_at', { withTimezone: true }),
  },
  (t) => [
    unique('variants_id_policy').on(t.id, t.allowNegative),
    index('variants_item_idx').on(t.itemId),
    index('variants_sku_prefix_idx').using('btree', sql`${t.sku} text_pattern_ops`),
    check('variants_pack_size_positive', sql`${t.packSize} > 0`),
    foreignKey({ name: 'variants_item_policy_fk', columns: [t.itemId, t.allowNegative], foreignColumns: [items.id, items.allowNegative] })
      .onUpdate('cascade')
      .onDelete('restrict'),
  ],
);

export const locations = pgTable(
  'locations',
  {
    id: serial('id').primaryKey(),
    code: text('code').notNull().unique(),
    name: text('name').notNull(),
    /** warehouse | store | drop_ship | supplier_managed */
    kind: text('kind').notNull().default('warehouse'),
    /** The sales channels this location's stock is offered to (channel sync reads it). */
    channels: text('channels').array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
  },
  (t) => [check('locations_kind', sql`${t.kind} IN ('warehouse', 'store', 'drop_ship', 'supplier_managed')`)],
);

/**
 * Price and cost history of a variant: a change appends a row (a trigger refuses rewrites), so a
 * KPI over last quarter values stock at last quarter's cost. The current price is the latest row.
 */
export const variantPrices = pgTable(
  'variant_prices',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    price: numeric('price', { precision: 14, scale: 4, mode: 'number' }),
    cost: numeric('cost', { precision: 14, scale: 4, mode: 'number' }),
    currency: text('currency').notNull(),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull().defaultNow(),
    source: text('source').notNull(),
  },
  (t) => [
    index('variant_prices_latest_idx').on(t.variantId, t.validFrom.desc(), t.id.desc()),
    check('variant_prices_nonnegative', sql`coalesce(${t.price}, 0) >= 0 AND coalesce(${t.cost}, 0) >= 0`),
    check('variant_prices_currency', sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

export const stockBalances = pgTable(
  'stock_balances',
  {
    variantId: integer('variant_id').notNull(),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    allowNegative: boolean('allow_negative').notNull().default(false),
    onHand: integer('on_hand').notNull().default(0),
    reserved: integer('reserved').notNull().default(0),
    committed: integer('committed').notNull().default(0),
    incoming: integer('incoming').notNull().default(0),
    /** ok | investigate (variance over 5%) | blocked (over 10%: nothing sells until resolved). */
    countStatus: text('count_status').notNull().default('ok'),
    available: integer('available')
      .notNull()
      .generatedAlwaysAs(sql`CASE WHEN count_status = 'blocked' THEN 0 ELSE on_hand - reserved - committed END`),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.variantId, t.locationId] }),
    foreignKey({ name: 'stock_balances_variant_policy_fk', columns: [t.variantId, t.allowNegative], foreignColumns: [variants.id, variants.allowNegative] })
      .onUpdate('cascade')
      .onDelete('restrict'),
    check('stock_balances_on_hand_policy', sql`${t.allowNegative} OR ${t.onHand} >= 0`),
    check('stock_balances_reserved_nonnegative', sql`${t.reserved} >= 0`),
    check('stock_balances_committed_nonnegative', sql`${t.committed} >= 0`),
    check('stock_balances_incoming_nonnegative', sql`${t.incoming} >= 0`),
    check('stock_balances_count_status', sql`${t.countStatus} IN ('ok', 'investigate', 'blocked')`),
    // GET /v1/stock pages by (variant, location): a location filter walks this index in that order.
    index('stock_balances_location_idx').on(t.locationId, t.variantId),
    index('stock_balances_blocked_idx').on(t.variantId, t.locationId).where(sql`${t.countStatus} = 'blocked'`),
    index('stock_balances_negative_idx').on(t.variantId, t.locationId).where(sql`${t.onHand} < 0`),
  ],
);

export const reasonCodes = pgTable('reason_codes', {
  code: text('code').primaryKey(),
  description: text('description').notNull(),
});

/**
 * One row per idempotency key: the claim that makes a retry a no-op, and the first result that a
 * retry gets back. Written in the same transaction as the balances it changed.
 */
export const stockOperations = pgTable('stock_operations', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  kind: text('kind').notNull(),
  requestHash: text('request_hash').notNull(),
  actor: text('actor').notNull(),
  result: jsonb('result'),
  createdAt: createdAt(),
});

/**
 * When each SKU-location's on hand went to 0 or below (or below 0 before it was ever stocked) and
 * when it came back above 0: written by the
 * database on the balance's update (migration 0017), so every ledger path keeps it, and rebuilt
 * from the ledger by `stockout_periods_rebuild()`. The stockout KPIs read it instead of walking
 * the ledger.
 */
export const stockoutPeriods = pgTable(
  'stockout_periods',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    /** On hand was above 0 before: a stockout event. False for stock sold before any arrived. */
    fromStock: boolean('from_stock').notNull(),
  },
  (t) => [
    uniqueIndex('stockout_periods_open_idx').on(t.variantId, t.locationId).where(sql`${t.endedAt} IS NULL`),
    index('stockout_periods_started_idx').on(t.startedAt),
    index('stockout_periods_ended_idx').on(t.endedAt),
    check('stockout_periods_order', sql`${t.endedAt} IS NULL OR ${t.endedAt} >= ${t.startedAt}`),
  ],
);

/**
 * Each settled UTC day's movements per location, summed once (migrations 0018 and 0022,
 * `roll_up_movement_days()`): the ledger never changes, so a past day's totals never do. The
 * turnover KPI reads these days and sums only the unsettled rest of its window from the ledger.
 */
export const movementDays = pgTable(
  'movement_days',
  {
    day: date('day', { mode: 'string' }).notNull(),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    netOnHand: bigint('net_on_hand', { mode: 'number' }).notNull(),
    /** Units that left on hand by `issue` and `ship` movements. */
    issued: bigint('issued', { mode: 'number' }).notNull(),
    /** The same movements valued at the unit cost in force when each happened (`unit_cost_at`). */
    netCost: numeric('net_cost', { mode: 'number' }).notNull().default(0),
    issuedCost: numeric('issued_cost', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.day, t.locationId] })],
);

/** How far each rollup has got: every day up to `through` (inclusive) is rolled up. */
export const rollups = pgTable('rollups', {
  name: text('name').primaryKey(),
  through: date('through', { mode: 'string' }).notNull(),
});

/** The immutable ledger: one row per balance row an operation changed, with the delta of every bucket. */
export const stockMovements = pgTable(
  'stock_movements',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    operationId: bigint('operation_id', { mode: 'number' })
      .notNull()
      .references(() => stockOperations.id),
    idempotencyKey: text('idempotency_key').notNull(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    kind: text('kind').notNull(),
    deltaOnHand: integer('delta_on_hand').notNull().default(0),
    deltaReserved: integer('delta_reserved').notNull().default(0),
    deltaCommitted: integer('delta_committed').notNull().default(0),
    deltaIncoming: integer('delta_incoming').notNull().default(0),
    reasonCode: text('reason_code').references(() => reasonCodes.code),
    sourceRef: text('source_ref'),
    actor: text('actor').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique('stock_movements_one_per_key_and_balance').on(t.idempotencyKey, t.variantId, t.locationId),
    index('stock_movements_balance_idx').on(t.variantId, t.locationId),
    // `asOf` sums a SKU's movements up to an instant.
    index('stock_movements_variant_time_idx').on(t.variantId, t.createdAt),
    // The unsettled days of a KPI window (db/kpis.ts) and each day's rollup read a range of time.
    index('stock_movements_time_idx').on(t.createdAt),
    check(
      'stock_movements_changes_something',
      sql`${t.deltaOnHand} <> 0 OR ${t.deltaReserved} <> 0 OR ${t.deltaCommitted} <> 0 OR ${t.deltaIncoming} <> 0`,
    ),
  ],
);

export const reservations = pgTable(
  'reservations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    quantity: integer('quantity').notNull(),
    /** active → committed → issued, or active → released | expired. */
    status: text('status').notNull().default('active'),
    orderRef: text('order_ref'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('reservations_quantity_positive', sql`${t.quantity} > 0`),
    check('reservations_status', sql`${t.status} IN ('active', 'committed', 'issued', 'released', 'expired')`),
    index('reservations_active_expiry_idx').on(t.expiresAt).where(sql`${t.status} = 'active'`),
    // An order's look-up and the orphan check find reservations by the order they belong to.
    index('reservations_order_ref_idx').on(t.orderRef),
  ],
);

export const adjustments = pgTable(
  'adjustments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    delta: integer('delta').notNull(),
    reasonCode: text('reason_code')
      .notNull()
      .references(() => reasonCodes.code),
    note: text('note'),
    evidence: text('evidence'),
    actor: text('actor').notNull(),
    createdAt: createdAt(),
  },
  (t) => [check('adjustments_delta_nonzero', sql`${t.delta} <> 0`)],
);

export const cycleCounts = pgTable(
  'cycle_counts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    expected: integer('expected').notNull(),
    counted: integer('counted').notNull(),
    variance: integer('variance').notNull(),
    /** Up to 99,999,999,900% (a count of 1,000,000,000 where 1 was expected): 12 digits before the point. */
    variancePct: numeric('variance_pct', { precision: 14, scale: 2, mode: 'number' }).notNull(),
    outcome: text('outcome').notNull(),
    actor: text('actor').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check('cycle_counts_counted_nonnegative', sql`${t.counted} >= 0`),
    check('cycle_counts_outcome', sql`${t.outcome} IN ('ok', 'investigate', 'blocked')`),
  ],
);

/** Immutable record of who did what, including refusals that changed nothing. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    idempotencyKey: text('idempotency_key'),
    details: jsonb('details').notNull().default({}),
  },
  (t) => [index('audit_log_subject_idx').on(t.subjectType, t.subjectId)],
);

/** People (or teams) who own exceptions. Roles: `approver` may decide any exception. */
export const owners = pgTable('owners', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  contact: text('contact').notNull(),
  roles: text('roles').array().notNull().default(sql`'{}'::text[]`),
  createdAt: createdAt(),
});

/**
 * Who owns an exception, by how specific a match is: each non-null matcher narrows the rule, the
 * rule with the most matchers wins, config order breaks ties. The rule with no matchers is the
 * default, and there is exactly one.
 */
export const ownershipRules = pgTable(
  'ownership_rules',
  {
    id: serial('id').primaryKey(),
    position: integer('position').notNull(),
    exceptionType: text('exception_type'),
    skuPrefix: text('sku_prefix'),
    location: text('location'),
    supplierId: text('supplier_id'),
    ownerId: text('owner_id')
      .notNull()
      .references(() => owners.id),
    backupId: text('backup_id')
      .notNull()
      .references(() => owners.id),
    escalationId: text('escalation_id')
      .notNull()
      .references(() => owners.id),
    ackSlaSeconds: integer('ack_sla_seconds').notNull(),
    resolutionSlaSeconds: integer('resolution_sla_seconds').notNull(),
  },
  (t) => [
    check('ownership_rules_slas_positive', sql`${t.ackSlaSeconds} > 0 AND ${t.resolutionSlaSeconds} > 0`),
    uniqueIndex('ownership_rules_one_default')
      .on(sql`(true)`)
      .where(sql`${t.exceptionType} IS NULL AND ${t.skuPrefix} IS NULL AND ${t.location} IS NULL AND ${t.supplierId} IS NULL`),
  ],
);

/** One row per exceptionHold workflow: what is held, who owns it, where it stands. */
export const exceptions = pgTable(
  'exceptions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The business key (`exception/<type>/<subject>`); reused once an earlier exception is resolved. */
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull().unique(),
    type: text('type').notNull(),
    subject: text('subject').notNull(),
    severity: text('severity').notNull(),
    summary: text('summary').notNull(),
    /** open → acknowledged → approved | rejected. */
    status: text('status').notNull().default('open'),
    ownerId: text('owner_id')
      .notNull()
      .references(() => owners.id),
    assigneeId: text('assignee_id')
      .notNull()
      .references(() => owners.id),
    escalationLevel: integer('escalation_level').notNull().default(0),
    sku: text('sku'),
    location: text('location'),
    supplierId: text('supplier_id'),
    orderId: text('order_id'),
    heldChange: jsonb('held_change'),
    requiresEvidence: boolean('requires_evidence').notNull().default(false),
    context: jsonb('context').notNull().default({}),
    occurrences: integer('occurrences').notNull().default(1),
    decidedBy: text('decided_by'),
    decisionReason: text('decision_reason'),
    evidence: text('evidence'),
    applyResult: jsonb('apply_result'),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull().defaultNow(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
  },
  (t) => [
    check('exceptions_status', sql`${t.status} IN ('open', 'acknowledged', 'approved', 'rejected')`),
    check('exceptions_severity', sql`${t.severity} IN ('low', 'medium', 'high', 'critical')`),
    index('exceptions_status_owner_idx').on(t.status, t.assigneeId),
    uniqueIndex('exceptions_one_unresolved_per_key')
      .on(t.workflowId)
      .where(sql`${t.status} IN ('open', 'acknowledged')`),
  ],
);

/** The exception's own history, step by step; append-only like the ledger. */
export const exceptionEvents = pgTable(
  'exception_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    exceptionId: bigint('exception_id', { mode: 'number' })
      .notNull()
      .references(() => exceptions.id),
    /** Position in the workflow's own sequence; makes a retried write a no-op. */
    seq: integer('seq').notNull(),
    action: text('action').notNull(),
    actor: text('actor').notNull(),
    outcome: text('outcome').notNull(),
    reason: text('reason'),
    details: jsonb('details').notNull().default({}),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('exception_events_once').on(t.exceptionId, t.seq)],
);

/** One delivery per exception, escalation level and channel: a retried notify sends nothing twice. */
export const notifications = pgTable(
  'notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    exceptionId: bigint('exception_id', { mode: 'number' })
      .notNull()
      .references(() => exceptions.id),
    level: integer('level').notNull(),
    channel: text('channel').notNull(),
    recipientId: text('recipient_id').notNull(),
    payload: jsonb('payload').notNull(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('notifications_once').on(t.exceptionId, t.level, t.channel)],
);

/** A supplier sends stock feeds; its quantities are on-hand at its own location (drop-ship or consignment stock). */
export const suppliers = pgTable('suppliers', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  locationId: integer('location_id')
    .notNull()
    .references(() => locations.id),
  createdAt: createdAt(),
  /** Archived suppliers keep their feeds, mappings and ledger references; new feeds are refused. */
  archivedAt: timestamp('archived_at', { withTimezone: true }),
  leadTimeDays: integer('lead_time_days'),
  /** Minimum order quantity, in base units. */
  moq: integer('moq'),
  /** Base units per case the supplier ships. */
  packSize: integer('pack_size'),
  currency: text('currency'),
  /** Where purchase orders are POSTed (signed with the supplier's source secret); none: they are not sent. */
  orderWebhookUrl: text('order_webhook_url'),
});

/** Which variants a supplier supplies, at what cost per base unit. */
export const supplierVariants = pgTable(
  'supplier_variants',
  {
    supplierId: text('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    cost: numeric('cost', { precision: 14, scale: 4, mode: 'number' }),
    currency: text('currency'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.supplierId, t.variantId] }), index('supplier_variants_variant_idx').on(t.variantId)],
);

/** A catalogue import as received, stored whole before its workflow starts; only its id travels through Temporal. */
export const catalogueImports = pgTable(
  'catalogue_imports',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    importId: text('import_id').notNull().unique(),
    format: text('format').notNull(),
    /** Hash of the body and the options: the same id with anything different is a conflict. */
    contentHash: text('content_hash').notNull(),
    body: text('body').notNull(),
    options: jsonb('options').notNull(),
    /** received → validating → applying → applied, or refused (a bad row and no skipInvalid). */
    status: text('status').notNull().default('received'),
    workflowId: text('workflow_id').notNull(),
    report: jsonb('report'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    check('catalogue_imports_format', sql`${t.format} IN ('stockflow-json', 'stockflow-csv', 'shopify-products', 'shopify-inventory')`),
    check('catalogue_imports_status', sql`${t.status} IN ('received', 'validating', 'applying', 'applied', 'refused')`),
  ],
);

/** One row per applied chunk of an import, written in the chunk's transaction: a retried chunk finds it and applies nothing. */
export const catalogueImportChunks = pgTable(
  'catalogue_import_chunks',
  {
    importPk: bigint('import_pk', { mode: 'number' })
      .notNull()
      .references(() => catalogueImports.id),
    chunkNo: integer('chunk_no').notNull(),
    result: jsonb('result').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.importPk, t.chunkNo] })],
);

/**
 * The checked records of an import, one row per chunk, written by the check: each chunk activity
 * reads its own row, so no worker holds the whole file's records while the import is applied.
 * Deleted when the import is applied.
 */
export const catalogueImportStaged = pgTable(
  'catalogue_import_staged',
  {
    importPk: bigint('import_pk', { mode: 'number' })
      .notNull()
      .references(() => catalogueImports.id),
    chunkNo: integer('chunk_no').notNull(),
    records: jsonb('records').notNull(),
  },
  (t) => [primaryKey({ columns: [t.importPk, t.chunkNo] })],
);

/** Supplier SKU → our variant, with how many base units one supplier unit holds. */
export const supplierSkuMap = pgTable(
  'supplier_sku_map',
  {
    supplierId: text('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    supplierSku: text('supplier_sku').notNull(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    unitFactor: integer('unit_factor').notNull().default(1),
  },
  (t) => [primaryKey({ columns: [t.supplierId, t.supplierSku] }), check('supplier_sku_map_unit_factor_positive', sql`${t.unitFactor} > 0`)],
);

/** A received feed, stored whole before any workflow starts: nothing accepted is ever lost. */
export const supplierFeeds = pgTable(
  'supplier_feeds',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    supplierId: text('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    feedId: text('feed_id').notNull(),
    format: text('format').notNull(),
    contentHash: text('content_hash').notNull(),
    body: text('body').notNull(),
    lineCount: integer('line_count').notNull(),
    /** received → processing → applied | quarantined → applied | discarded. */
    status: text('status').notNull().default('received'),
    workflowId: text('workflow_id').notNull(),
    summary: jsonb('summary'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    unique('supplier_feeds_once').on(t.supplierId, t.feedId),
    check('supplier_feeds_format', sql`${t.format} IN ('csv', 'json')`),
    check('supplier_feeds_status', sql`${t.status} IN ('received', 'processing', 'applied', 'quarantined', 'discarded')`),
  ],
);

/** What became of each line of a feed, with the reason when it was not applied. */
export const feedLines = pgTable(
  'feed_lines',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    feedPk: bigint('feed_pk', { mode: 'number' })
      .notNull()
      .references(() => supplierFeeds.id),
    lineNo: integer('line_no').notNull(),
    supplierSku: text('supplier_sku'),
    variantId: integer('variant_id').references(() => variants.id),
    sequence: bigint('sequence', { mode: 'number' }),
    quantity: integer('quantity'),
    /** applied | stale | duplicate | held | rejected | unmapped | quarantined */
    outcome: text('outcome').notNull(),
    reason: text('reason'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('feed_lines_once').on(t.feedPk, t.lineNo)],
);

/** The last applied sequence and quantity per supplier and variant: what "stale" and "spike" are measured against. */
export const feedSequences = pgTable(
  'feed_sequences',
  {
    supplierId: text('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    lastSequence: bigint('last_sequence', { mode: 'number' }).notNull(),
    lastQuantity: integer('last_quantity').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.supplierId, t.variantId] })],
);

/**
 * The canonical order: one row per `order/<channel>/<orderId>` workflow, its current state and the
 * owner of that state (from the ownership rules). The workflow is the only writer.
 */
export const orders = pgTable(
  'orders',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workflowId: text('workflow_id').notNull().unique(),
    channel: text('channel').notNull(),
    orderId: text('order_id').notNull(),
    state: text('state').notNull(),
    stateOwnerId: text('state_owner_id')
      .notNull()
      .references(() => owners.id),
    location: text('location'),
    /** The lines as placed: `[{ sku, quantity }]`; null until `order.placed` arrives. */
    lines: jsonb('lines'),
    /** Why the order ended where it did (rejected, cancelled, expired, failed). */
    outcomeReason: text('outcome_reason'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('orders_channel_order').on(t.channel, t.orderId),
    index('orders_order_id_idx').on(t.orderId),
    check(
      'orders_state',
      sql`${t.state} IN ('received', 'validated', 'reserved', 'paid', 'fulfilment_requested', 'accepted', 'shipped', 'closed', 'rejected', 'cancelled', 'expired', 'failed')`,
    ),
  ],
);

/** Every state change of an order, with when, who caused it and who owned the new state; append-only. */
export const orderTransitions = pgTable(
  'order_transitions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orderPk: bigint('order_pk', { mode: 'number' })
      .notNull()
      .references(() => orders.id),
    /** Position in the workflow's own sequence; makes a retried write a no-op. */
    seq: integer('seq').notNull(),
    fromState: text('from_state'),
    toState: text('to_state').notNull(),
    actor: text('actor').notNull(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => owners.id),
    reason: text('reason'),
    details: jsonb('details').notNull().default({}),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('order_transitions_once').on(t.orderPk, t.seq)],
);

/** Every upstream order event as received, once per channel and event id: a repeat is recognised here. */
export const orderEvents = pgTable(
  'order_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    channel: text('channel').notNull(),
    eventId: text('event_id').notNull(),
    orderId: text('order_id').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set once the event reached its workflow; an unset one is delivered again when it is re-sent. */
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [unique('order_events_once').on(t.channel, t.eventId), index('order_events_order_idx').on(t.channel, t.orderId)],
);

/**
 * The synchronous answer to an order's `order.placed` (schemas/orders.ts PlacementAnswer), one per
 * order, written in the transaction that stored the event and reserved the stock: a repeat of the
 * event, and the order's workflow, read it here. `answer` is only empty inside that transaction.
 */
export const orderPlacements = pgTable('order_placements', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  workflowId: text('workflow_id').notNull().unique(),
  channel: text('channel').notNull(),
  orderId: text('order_id').notNull(),
  eventId: text('event_id').notNull(),
  answer: jsonb('answer'),
  createdAt: createdAt(),
});

/**
 * A cart's hold on stock before an order exists: its reservations (held by `workflow_id`) last
 * until `expires_at`, unless extended, released, or converted into an order, which takes the
 * reservations over. `parts` are the reservations as held (schemas/orders.ts PlacedPart).
 */
export const carts = pgTable(
  'carts',
  {
    cartId: text('cart_id').primaryKey(),
    workflowId: text('workflow_id').notNull().unique(),
    channel: text('channel').notNull(),
    /** held → converted | released | expired. */
    status: text('status').notNull().default('held'),
    parts: jsonb('parts').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** The order's workflow id, once converted. */
    orderRef: text('order_ref'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('carts_status', sql`${t.status} IN ('held', 'converted', 'released', 'expired')`)],
);

/** On-hand figures from the system of record (ERP, WMS), imported for the daily reconciliation. */
export const reconciliationSnapshots = pgTable('reconciliation_snapshots', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  source: text('source').notNull(),
  format: text('format').notNull(),
  /** `[{ sku, location, onHand }]` as imported. */
  lines: jsonb('lines').notNull(),
  takenAt: timestamp('taken_at', { withTimezone: true }).notNull(),
  importedAt: timestamp('imported_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One reconciliation run and its report: what was checked, what matched, every delta. */
export const reconciliationRuns = pgTable(
  'reconciliation_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The workflow run that did it; a retried activity finds its report here. */
    runKey: text('run_key').notNull().unique(),
    snapshotId: bigint('snapshot_id', { mode: 'number' }).references(() => reconciliationSnapshots.id),
    checked: integer('checked').notNull(),
    matched: integer('matched').notNull(),
    deltas: jsonb('deltas').notNull(),
    ranAt: timestamp('ran_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('reconciliation_runs_ran_at_idx').on(t.ranAt)],
);

/**
 * Who may call the API: people and service accounts, each with one role (schemas/identity.ts).
 * A person who decides exceptions has the id of their owner entry. Never deleted: audit rows name them.
 */
export const principals = pgTable(
  'principals',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    check('principals_kind', sql`${t.kind} IN ('user', 'service')`),
    check('principals_role', sql`${t.role} IN ('viewer', 'operator', 'approver', 'admin')`),
  ],
);

/**
 * API tokens, stored as the SHA-256 of the token: the token is 32 random bytes, so a hash that
 * cannot be reversed needs no salt or stretching. `id` is the token's public prefix, for lookup.
 */
export const principalTokens = pgTable(
  'principal_tokens',
  {
    id: text('id').primaryKey(),
    principalId: text('principal_id')
      .notNull()
      .references(() => principals.id),
    tokenHash: text('token_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('principal_tokens_principal_idx').on(t.principalId), check('principal_tokens_hash_is_sha256', sql`${t.tokenHash} ~ '^[0-9a-f]{64}$'`)],
);

/**
 * Proof that a decision came through our API: the API writes a ticket naming the exception
 * workflow, who decides and what, and the workflow consumes it (once) before accepting the
 * decision. A Temporal UI user can send the same Update but cannot write this table.
 */
export const decisionTickets = pgTable(
  'decision_tickets',
  {
    id: text('id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    principalId: text('principal_id').notNull(),
    action: text('action').notNull(),
    createdAt: createdAt(),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
    /** The decision's sequence number in the workflow: a retried claim of the same decision succeeds again. */
    consumedSeq: integer('consumed_seq'),
  },
  (t) => [index('decision_tickets_created_idx').on(t.createdAt)],
);

/**
 * The availability outbox: one row per balance row whose `available` changed, written by a trigger
 * on stock_balances (migration 0014_channels) in the ledger's own transaction, so a committed
 * change always has its row. `txid` is the writing transaction's id: channel cursors only move past
 * rows of transactions older than every one still running (see db/channels.ts), which is what
 * makes a bigserial cursor safe against a lower id committing late.
 */
export const availabilityChanges = pgTable(
  'availability_changes',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    txid: bigint('txid', { mode: 'number' }).notNull(),
    variantId: integer('variant_id').notNull(),
    locationId: integer('location_id').notNull(),
    available: integer('available').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('availability_changes_cursor_idx').on(t.txid, t.seq)],
);

/** A sales channel Stockflow publishes availability to. Secrets are never stored: only where to read them. */
export const channels = pgTable(
  'channels',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    name: text('name').notNull(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => owners.id),
    /** The buffer rule with its per-SKU and per-tag overrides (schemas/channels.ts BufferRules). */
    buffer: jsonb('buffer').notNull(),
    /** Kind-specific endpoints (webhook URL, Shopify shop and location), never a secret. */
    settings: jsonb('settings').notNull(),
    /** `env:NAME` or `file:/path#key`: where the worker reads the channel's secret when it pushes. */
    secretRef: text('secret_ref').notNull(),
    stalenessSeconds: integer('staleness_seconds').notNull(),
    /** The outbox position this channel has collected up to: (txid, seq) of the last row read. */
    cursorTxid: bigint('cursor_txid', { mode: 'number' }).notNull().default(0),
    cursorSeq: bigint('cursor_seq', { mode: 'number' }).notNull().default(0),
    lastPushAt: timestamp('last_push_at', { withTimezone: true }),
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    check('channels_kind', sql`${t.kind} IN ('shopify', 'webhook')`),
    check('channels_staleness_positive', sql`${t.stalenessSeconds} > 0`),
  ],
);

/** Which of our locations feed a channel: its figure is taken over their sum. */
export const channelLocations = pgTable(
  'channel_locations',
  {
    channelId: text('channel_id')
      .notNull()
      .references(() => channels.id),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.locationId] }), index('channel_locations_location_idx').on(t.locationId)],
);

/** Our SKU → the channel's own id (Shopify inventory item gid, or the webhook receiver's id), with tags for buffer overrides. */
export const channelSkus = pgTable(
  'channel_skus',
  {
    channelId: text('channel_id')
      .notNull()
      .references(() => channels.id),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    externalId: text('external_id').notNull(),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.variantId] }), unique('channel_skus_external_once').on(t.channelId, t.externalId)],
);

/**
 * What the channel was last told for a SKU and under which version (the outbox seq it covers):
 * a push goes out only with a newer version, so an older figure never follows a newer one.
 */
export const channelPublications = pgTable(
  'channel_publications',
  {
    channelId: text('channel_id')
      .notNull()
      .references(() => channels.id),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    published: integer('published').notNull(),
    version: bigint('version', { mode: 'number' }).notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.variantId] })],
);

/**
 * SKUs of a channel with a change not yet acknowledged by the channel: one row per SKU however
 * many changes arrive (the coalescing), holding the first unpublished change's time (the lag)
 * and the newest outbox seq seen (the version the next push carries).
 */
export const channelPending = pgTable(
  'channel_pending',
  {
    channelId: text('channel_id')
      .notNull()
      .references(() => channels.id),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    version: bigint('version', { mode: 'number' }).notNull(),
    firstChangedAt: timestamp('first_changed_at', { withTimezone: true }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.variantId] })],
);

/**
 * How one SKU at one location is replenished, and from which supplier: `static` fixes the reorder
 * point and quantity, `dynamic` computes them from demand (domain/replenishment.ts).
 */
export const reorderPolicies = pgTable(
  'reorder_policies',
  {
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    supplierId: text('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    kind: text('kind').notNull(),
    reorderPoint: integer('reorder_point'),
    orderQuantity: integer('order_quantity'),
    safetyDays: integer('safety_days'),
    targetDays: integer('target_days'),
    /** Trailing demand window; null: the configured default. */
    windowDays: integer('window_days'),
    /** Dynamic only: the chance of not running out over a lead time, for safety stock from demand variability; null: none. */
    serviceLevel: numeric('service_level', { precision: 5, scale: 4, mode: 'number' }),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.variantId, t.locationId] }),
    check(
      'reorder_policies_shape',
      sql`(${t.kind} = 'static' AND ${t.reorderPoint} >= 0 AND ${t.orderQuantity} > 0) OR (${t.kind} = 'dynamic' AND ${t.safetyDays} >= 0 AND ${t.targetDays} > 0 AND coalesce(${t.windowDays}, 1) > 0)`,
    ),
    check('reorder_policies_service_level', sql`${t.serviceLevel} IS NULL OR (${t.kind} = 'dynamic' AND ${t.serviceLevel} >= 0.5 AND ${t.serviceLevel} < 1)`),
  ],
);

/** One replenishment run per day: its key claims the day, so a retried or repeated run raises nothing twice. */
export const replenishmentRuns = pgTable('replenishment_runs', {
  runKey: text('run_key').primaryKey(),
  at: timestamp('at', { withTimezone: true }).notNull(),
  createdAt: createdAt(),
});

/** What a run suggests buying from one supplier; the buyer approves (maybe editing quantities) or rejects it. */
export const purchaseSuggestions = pgTable(
  'purchase_suggestions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runKey: text('run_key')
      .notNull()
      .references(() => replenishmentRuns.runKey),
    supplierId: text('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    currency: text('currency'),
    /** Sum of quantity × supplier cost over the lines; a line with no known cost adds nothing. */
    value: numeric('value', { precision: 16, scale: 4, mode: 'number' }).notNull(),
    /** open → approved | rejected. */
    status: text('status').notNull().default('open'),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    unique('purchase_suggestions_one_per_run_and_supplier').on(t.runKey, t.supplierId),
    check('purchase_suggestions_status', sql`${t.status} IN ('open', 'approved', 'rejected')`),
    index('purchase_suggestions_status_idx').on(t.status, t.supplierId),
  ],
);

export const purchaseSuggestionLines = pgTable(
  'purchase_suggestion_lines',
  {
    suggestionId: bigint('suggestion_id', { mode: 'number' })
      .notNull()
      .references(() => purchaseSuggestions.id),
    lineNo: integer('line_no').notNull(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    suggestedQuantity: integer('suggested_quantity').notNull(),
    /** What the buyer approved; the suggested quantity until edited. */
    quantity: integer('quantity').notNull(),
    unitCost: numeric('unit_cost', { precision: 14, scale: 4, mode: 'number' }),
    velocity: numeric('velocity', { precision: 14, scale: 4, mode: 'number' }).notNull(),
    reorderPoint: numeric('reorder_point', { precision: 14, scale: 4, mode: 'number' }).notNull(),
    reason: text('reason').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.suggestionId, t.lineNo] }),
    check('purchase_suggestion_lines_quantities', sql`${t.suggestedQuantity} > 0 AND ${t.quantity} >= 0`),
  ],
);

/**
 * An order placed with a supplier. Its number is a business key: from the approved suggestion's run
 * and supplier, or given by the client that created it. open → received (every line in full) | closed (short).
 */
export const purchaseOrders = pgTable(
  'purchase_orders',
  {
    poNumber: text('po_number').primaryKey(),
    supplierId: text('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    currency: text('currency'),
    status: text('status').notNull().default('open'),
    /** The suggestion it was approved from; none for one created directly. */
    suggestionId: bigint('suggestion_id', { mode: 'number' })
      .unique()
      .references(() => purchaseSuggestions.id),
    /** What a directly created order was asked with, so a resend is recognised and a different one refused. */
    requestHash: text('request_hash'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    expectedAt: timestamp('expected_at', { withTimezone: true }).notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    closedBy: text('closed_by'),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    closeReason: text('close_reason'),
  },
  (t) => [
    check('purchase_orders_status', sql`${t.status} IN ('open', 'received', 'closed')`),
    index('purchase_orders_status_idx').on(t.status, t.supplierId, t.poNumber),
  ],
);

export const purchaseOrderLines = pgTable(
  'purchase_order_lines',
  {
    poNumber: text('po_number')
      .notNull()
      .references(() => purchaseOrders.poNumber),
    lineNo: integer('line_no').notNull(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    quantity: integer('quantity').notNull(),
    unitCost: numeric('unit_cost', { precision: 14, scale: 4, mode: 'number' }),
    received: integer('received').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.poNumber, t.lineNo] }),
    unique('purchase_order_lines_one_per_place').on(t.poNumber, t.variantId, t.locationId),
    check('purchase_order_lines_quantities', sql`${t.quantity} > 0 AND ${t.received} >= 0`),
  ],
);

/** A receipt against an order, kept by the id the warehouse gave it: a resend applies nothing twice. */
export const purchaseOrderReceipts = pgTable(
  'purchase_order_receipts',
  {
    poNumber: text('po_number')
      .notNull()
      .references(() => purchaseOrders.poNumber),
    receiptId: text('receipt_id').notNull(),
    requestHash: text('request_hash').notNull(),
    /** The lines as applied: line number, SKU, location, quantity. */
    lines: jsonb('lines').notNull(),
    receivedBy: text('received_by').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.poNumber, t.receiptId] })],
);

/** Each active SKU's ABC class by revenue over a trailing window, as last computed (the count frequency follows it). */
export const abcClasses = pgTable(
  'abc_classes',
  {
    variantId: integer('variant_id')
      .primaryKey()
      .references(() => variants.id),
    abcClass: text('abc_class').notNull(),
    /** Units shipped or issued in the window × the price in force when each left. */
    revenue: numeric('revenue', { precision: 18, scale: 4, mode: 'number' }).notNull(),
    rank: integer('rank').notNull(),
    windowDays: integer('window_days').notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull(),
  },
  (t) => [check('abc_classes_class', sql`${t.abcClass} IN ('A', 'B', 'C')`), index('abc_classes_class_idx').on(t.abcClass)],
);

/** One location's cycle counts of one working day, held for its owner (a `count_task` exception) until every line is counted. */
export const countTasks = pgTable(
  'count_tasks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** domain/keys.ts countTask: location and day, never a serial. */
    taskKey: text('task_key').notNull().unique(),
    locationId: integer('location_id')
      .notNull()
      .references(() => locations.id),
    day: text('day').notNull(),
    /** The exceptionHold workflow that owns the task and runs its SLA clock. */
    exceptionWorkflowId: text('exception_workflow_id').notNull(),
    /** open → done when every line has posted. */
    status: text('status').notNull().default('open'),
    createdAt: createdAt(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    check('count_tasks_status', sql`${t.status} IN ('open', 'done')`),
    check('count_tasks_day', sql`${t.day} ~ '^\\d{4}-\\d{2}-\\d{2}$'`),
    index('count_tasks_day_idx').on(t.day, t.locationId),
  ],
);

/**
 * One SKU to count on a task. The expected figure is never stored here nor shown to a counter;
 * `within_tolerance` grades the first count (the stock accuracy KPI), and what posted is the
 * within-tolerance first count or someone else's recount.
 */
export const countTaskLines = pgTable(
  'count_task_lines',
  {
    taskId: bigint('task_id', { mode: 'number' })
      .notNull()
      .references(() => countTasks.id),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id),
    /** The class the SKU had when the task was made: accuracy is kept per class. */
    abcClass: text('abc_class').notNull(),
    reason: text('reason').notNull(),
    status: text('status').notNull().default('to_count'),
    firstCounted: integer('first_counted'),
    firstBy: text('first_by'),
    firstAt: timestamp('first_at', { withTimezone: true }),
    withinTolerance: boolean('within_tolerance'),
    recountCounted: integer('recount_counted'),
    recountBy: text('recount_by'),
    recountAt: timestamp('recount_at', { withTimezone: true }),
    /** The cycle count's grade (ok, investigate, blocked) once posted. */
    postedOutcome: text('posted_outcome'),
    postedAt: timestamp('posted_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.taskId, t.variantId] }),
    check('count_task_lines_status', sql`${t.status} IN ('to_count', 'recount', 'posting', 'posted')`),
    check('count_task_lines_class', sql`${t.abcClass} IN ('A', 'B', 'C')`),
    check('count_task_lines_counts', sql`coalesce(${t.firstCounted}, 0) >= 0 AND coalesce(${t.recountCounted}, 0) >= 0`),
    check('count_task_lines_recount_by_other', sql`${t.recountBy} IS NULL OR ${t.recountBy} <> ${t.firstBy}`),
    index('count_task_lines_variant_idx').on(t.variantId),
  ],
);
