import { idempotencyKeys } from '../domain/keys';
import type { ApplyChunk, KnownCatalogue, RecordKey } from '../domain/catalogue-import';
import { Refusal } from '../domain/refusal';
import type { ImportApplied, ImportAppliedCounts, ImportProblem, ImportRecord, ImportRecordOf, ImportReport, StoredImportFormat } from '../schemas/catalogue';
import { sha256 } from './canonical';
import { clientOf, isoAt, type Sql } from './client';
import type { Db } from './connection';
import { applyStockOperations, type BatchOperation } from './ledger-batch';

export interface ImportOptionsStored {
  skipInvalid: boolean;
  currency: string;
}

export interface StoredImport {
  importPk: number;
  importId: string;
  workflowId: string;
  created: boolean;
}

/**
 * Stores an import whole before any workflow starts. The same import again (same id, or the same
 * content and options when it has no id) finds the stored one; the same id with a different file
 * or options is refused.
 */
export async function storeImport(
  db: Db,
  input: { importId?: string; format: StoredImportFormat; body: string; options: ImportOptionsStored; workflowIdFor: (importId: string) => string },
): Promise<StoredImport> {
  const pg = clientOf(db);
  const contentHash = sha256(`${input.format}\n${JSON.stringify(input.options)}\n${input.body}`);
  const importId = input.importId ?? `sha256-${contentHash.slice(0, 24)}`;
  const workflowId = input.workflowIdFor(importId);
  const [created] = await pg<{ id: number }[]>`
    INSERT INTO catalogue_imports (import_id, format, content_hash, body, options, workflow_id)
    VALUES (${importId}, ${input.format}, ${contentHash}, ${input.body}, ${JSON.stringify(input.options)}::jsonb, ${workflowId})
    ON CONFLICT (import_id) DO NOTHING RETURNING id`;
  if (created) return { importPk: Number(created.id), importId, workflowId, created: true };
  const [existing] = await pg<{ id: number; contentHash: string; receivedAt: string; workflowId: string }[]>`
    SELECT id, content_hash AS "contentHash", ${isoAt(pg, 'received_at')} AS "receivedAt", workflow_id AS "workflowId" FROM catalogue_imports WHERE import_id = ${importId}`;
  if (existing.contentHash !== contentHash) {
    throw new Refusal(
      'import_conflict',
      `import "${importId}" was received at ${existing.receivedAt} with a different file or options; send a changed file under a new import id`,
      'importId',
    );
  }
  return { importPk: Number(existing.id), importId, workflowId: existing.workflowId, created: false };
}

/** A stored import without its file (read in pieces with `importBody`). */
export interface ImportRow {
  importPk: number;
  importId: string;
  format: StoredImportFormat;
  options: ImportOptionsStored;
  report: ImportReport | null;
}

export async function loadImport(db: Db, importPk: number): Promise<ImportRow> {
  const [row] = await clientOf(db)<ImportRow[]>`
    SELECT id AS "importPk", import_id AS "importId", format, options, report FROM catalogue_imports WHERE id = ${importPk}`;
  if (!row) throw new Error(`no stored catalogue import ${importPk}`);
  return { ...row, importPk: Number(row.importPk) };
}

/** Bytes of a stored file handed out at a time (its records die young), and pieces fetched per round trip. */
const PIECE_BYTES = 1 << 16;
const PIECES_PER_FETCH = 16;

/**
 * A stored file's text in pieces, in order, through a cursor: a large file is never held whole in
 * the worker (as one string it is held twice over while it arrives). Postgres encodes the text
 * once and hands out byte ranges; a character split between two pieces is decoded whole.
 */
export async function* importBody(db: Db, importPk: number): AsyncGenerator<string> {
  // A byte order mark stays in the text, as it does when the body is read whole.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const pieces = clientOf(db)<{ piece: Uint8Array }[]>`
    SELECT substring(b.bytes FROM g FOR ${PIECE_BYTES}) AS piece
    FROM (SELECT convert_to(body, 'UTF8') AS bytes FROM catalogue_imports WHERE id = ${importPk} OFFSET 0) b,
      LATERAL generate_series(1, octet_length(b.bytes), ${PIECE_BYTES}) g
    ORDER BY g`.cursor(PIECES_PER_FETCH);
  for await (const fetched of pieces) for (const { piece } of fetched) yield decoder.decode(piece, { stream: true });
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

export async function importIdentity(db: Db, importPk: number): Promise<{ importId: string }> {
  const [row] = await clientOf(db)<{ importId: string }[]>`SELECT import_id AS "importId" FROM catalogue_imports WHERE id = ${importPk}`;
  if (!row) throw new Error(`no stored catalogue import ${importPk}`);
  return row;
}

/** The import applied: its report gains what was applied and the opening balances the ledger refused, gathered from its chunks. */
export async function finishImport(db: Db, importPk: number, applied: ImportAppliedCounts): Promise<void> {
  const pg = clientOf(db);
  await pg.begin(async (tx) => {
    await tx`DELETE FROM catalogue_import_staged WHERE import_pk = ${importPk}`;
    await tx`
    UPDATE catalogue_imports SET status = 'applied', completed_at = now(),
      report = coalesce(report, '{}'::jsonb) || jsonb_build_object(
        'applied', ${JSON.stringify(applied)}::jsonb,
        'ledgerRefusals', (SELECT coalesce(jsonb_agg(e ORDER BY c.chunk_no), '[]'::jsonb)
                           FROM catalogue_import_chunks c, jsonb_array_elements(c.result->'refused') e WHERE c.import_pk = ${importPk}))
    WHERE id = ${importPk}`;
  });
}

export async function findImport(db: Db, importId: string) {
  const pg = clientOf(db);
  const [row] = await pg<{ format: string; status: string; workflowId: string; options: ImportOptionsStored; report: unknown; receivedAt: string; completedAt: string | null }[]>`
    SELECT format, status, workflow_id AS "workflowId", options, report, ${isoAt(pg, 'received_at')} AS "receivedAt", ${isoAt(pg, 'completed_at')} AS "completedAt"
    FROM catalogue_imports WHERE import_id = ${importId}`;
  return row;
}

/** What the catalogue already holds that the records refer to: their SKUs, every location, the suppliers they name. */
export async function knownCatalogue(db: Db, records: Iterable<RecordKey>): Promise<{ known: KnownCatalogue; locationNames: Map<string, string> }> {
  const pg = clientOf(db);
  const skuSet = new Set<string>();
  const supplierSet = new Set<string>();
  for (const r of records) {
    if ('sku' in r) skuSet.add(r.sku);
    if (r.kind === 'supplier_variant') supplierSet.add(r.supplierId);
  }
  const [skus, supplierIds] = [[...skuSet], [...supplierSet]];
  const [variantRows, locationRows, supplierRows] = await Promise.all([
    pg<{ sku: string; handle: string | null; allowNegative: boolean }[]>`
      SELECT v.sku, i.handle, v.allow_negative AS "allowNegative" FROM variants v JOIN items i ON i.id = v.item_id WHERE v.sku = ANY(${skus}::text[])`,
    pg<{ code: string; name: string }[]>`SELECT code, name FROM locations ORDER BY id`,
    pg<{ id: string }[]>`SELECT id FROM suppliers WHERE id = ANY(${supplierIds}::text[]) AND archived_at IS NULL`,
  ]);
  const locationNames = new Map<string, string>();
  for (const l of locationRows) if (!locationNames.has(l.name.toLowerCase())) locationNames.set(l.name.toLowerCase(), l.code);
  return {
    known: {
      skus: new Map(variantRows.map((v) => [v.sku, { handle: v.handle, allowNegative: v.allowNegative }])),
      locations: new Map(locationRows.map((l) => [l.code, l.name])),
      suppliers: new Set(supplierRows.map((s) => s.id)),
    },
    locationNames,
  };
}

export async function markImport(db: Db, importPk: number, status: 'validating' | 'applying' | 'applied' | 'refused', report?: unknown): Promise<void> {
  const pg = clientOf(db);
  await pg`
    UPDATE catalogue_imports SET status = ${status}
      ${report === undefined ? pg`` : pg`, report = ${JSON.stringify(report)}::jsonb`}
      ${status === 'applied' || status === 'refused' ? pg`, completed_at = now()` : pg``}
    WHERE id = ${importPk}`;
}

/**
 * Stores the checked records chunk by chunk as `chunks` gives them (each as soon as it is made, so
 * staging holds one chunk at a time), then marks the import as applying with its report, in one
 * transaction: an import that is applying always has every chunk staged. A retried check stages
 * the same chunks again and changes nothing.
 */
export async function stageImport(db: Db, importPk: number, chunks: AsyncIterable<ApplyChunk>, report: ImportReport): Promise<void> {
  await clientOf(db).begin(async (tx) => {
    for await (const { chunkNo, records } of chunks) {
      await tx`INSERT INTO catalogue_import_staged (import_pk, chunk_no, records) VALUES (${importPk}, ${chunkNo}, ${records}::jsonb) ON CONFLICT (import_pk, chunk_no) DO NOTHING`;
    }
    await tx`UPDATE catalogue_imports SET status = 'applying', report = ${JSON.stringify(report)}::jsonb WHERE id = ${importPk}`;
  });
}

/** One staged chunk's records, or undefined when the import has none staged. */
export async function stagedChunk(db: Db, importPk: number, chunkNo: number): Promise<ImportRecord[] | undefined> {
  const [row] = await clientOf(db)<{ records: ImportRecord[] }[]>`SELECT records FROM catalogue_import_staged WHERE import_pk = ${importPk} AND chunk_no = ${chunkNo}`;
  return row?.records;
}

export const emptyApplied = (): ImportApplied => ({ locations: 0, suppliers: 0, items: 0, variants: 0, prices: 0, supplierVariants: 0, balances: 0, refused: [] });

/**
 * Applies one chunk of an import's records in one transaction: locations, suppliers, items and
 * variants upserted, a price row appended where price, cost or currency changed, supplier
 * variants saved, opening balances set through the ledger's batch (set_on_hand, reason
 * `opening_balance`, keyed by the import and row). The chunk is recorded in the same transaction;
 * a chunk that was recorded before (a retried activity) returns its first result and applies nothing.
 */
export async function applyImportChunk(db: Db, imported: Pick<ImportRow, 'importPk' | 'importId'>, chunkNo: number, records: readonly ImportRecord[], actor: string): Promise<ImportApplied & { replayed: boolean }> {
  return clientOf(db).begin(async (tx) => {
    const [, [recorded]] = await Promise.all([
      tx`SELECT pg_advisory_xact_lock(hashtext(${`catalogue-import:${imported.importPk}`}))`,
      // Sent behind the lock on the same connection: it reads what the lock's last holder committed.
      tx<{ result: ImportApplied }[]>`SELECT result FROM catalogue_import_chunks WHERE import_pk = ${imported.importPk} AND chunk_no = ${chunkNo}`,
    ]);
    if (recorded) return { ...recorded.result, replayed: true };
    const of = <K extends ImportRecord['kind']>(kind: K) => records.filter((r): r is ImportRecordOf<K> => r.kind === kind);
    const applied = emptyApplied();
    applied.locations = await upsertLocations(tx, of('location'));
    applied.suppliers = await upsertSuppliers(tx, of('supplier'));
    Object.assign(applied, await upsertVariants(tx, of('variant'), actor));
    applied.supplierVariants = await upsertSupplierVariants(tx, of('supplier_variant'));
    const balances = await setOpeningBalances(tx, imported.importId, of('balance'), actor);
    applied.balances = balances.applied;
    applied.refused = balances.refused;
    await Promise.all([
      tx`INSERT INTO catalogue_import_chunks (import_pk, chunk_no, result) VALUES (${imported.importPk}, ${chunkNo}, ${JSON.stringify(applied)}::jsonb)`,
      tx`INSERT INTO audit_log (actor, action, subject_type, subject_id, details)
         VALUES (${actor}, 'catalogue.import_chunk', 'catalogue_import', ${imported.importId}, ${JSON.stringify({ chunkNo, ...applied, refused: applied.refused.length })}::jsonb)`,
    ]);
    return { ...applied, replayed: false };
  });
}

/** Rows as one JSON document, parsed once by Postgres (see recordBatch in db/ledger.ts). */
const doc = (rows: unknown[]) => JSON.stringify(rows);

async function upsertLocations(tx: Sql, rows: ImportRecordOf<'location'>[]): Promise<number> {
  if (rows.length === 0) return 0;
  await tx`
    INSERT INTO locations (code, name, kind, channels)
    SELECT r.code, r.name, r."locationKind", ARRAY(SELECT jsonb_array_elements_text(r.channels))
    FROM jsonb_to_recordset(${doc(rows)}::jsonb) AS r(code text, name text, "locationKind" text, channels jsonb)
    ORDER BY r.code
    ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, channels = excluded.channels`;
  return rows.length;
}

async function upsertSuppliers(tx: Sql, rows: ImportRecordOf<'supplier'>[]): Promise<number> {
  if (rows.length === 0) return 0;
  await tx`
    INSERT INTO suppliers (id, name, location_id, lead_time_days, moq, pack_size, currency)
    SELECT r.id, r.name, l.id, r."leadTimeDays", r.moq, r."packSize", r.currency
    FROM jsonb_to_recordset(${doc(rows)}::jsonb) AS r(id text, name text, location text, "leadTimeDays" int, moq int, "packSize" int, currency text)
    JOIN locations l ON l.code = r.location
    ORDER BY r.id
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, location_id = excluded.location_id, lead_time_days = excluded.lead_time_days,
      moq = excluded.moq, pack_size = excluded.pack_size, currency = excluded.currency`;
  return rows.length;
}

/**
 * Items by handle (the first row of a handle in the chunk names it), then variants by SKU (a SKU
 * that exists keeps its item: the check refused one that would move), then a price row where the
 * latest one differs.
 */
async function upsertVariants(tx: Sql, rows: ImportRecordOf<'variant'>[], actor: string): Promise<Pick<ImportApplied, 'items' | 'variants' | 'prices'>> {
  if (rows.length === 0) return { items: 0, variants: 0, prices: 0 };
  const items = [...new Map(rows.map((r) => [r.handle, { handle: r.handle, name: r.itemName, vendor: r.vendor ?? null, tags: r.tags, allowNegative: r.allowNegative }])).values()];
  await tx`
    INSERT INTO items (handle, name, vendor, tags, allow_negative)
    SELECT r.handle, r.name, r.vendor, ARRAY(SELECT jsonb_array_elements_text(r.tags)), r."allowNegative"
    FROM jsonb_to_recordset(${doc(items)}::jsonb) AS r(handle text, name text, vendor text, tags jsonb, "allowNegative" boolean)
    ORDER BY r.handle
    ON CONFLICT (handle) DO UPDATE SET name = excluded.name, vendor = excluded.vendor, tags = excluded.tags,
      allow_negative = excluded.allow_negative, updated_at = now()
    WHERE (items.name, items.vendor, items.tags, items.allow_negative) IS DISTINCT FROM (excluded.name, excluded.vendor, excluded.tags, excluded.allow_negative)`;
  const variants = rows.map((r) => ({ handle: r.handle, sku: r.sku, barcode: r.barcode ?? null, options: r.options, unit: r.unitOfMeasure, pack: r.packSize }));
  await tx`
    INSERT INTO variants (item_id, sku, allow_negative, barcode, options, unit_of_measure, pack_size)
    SELECT i.id, r.sku, i.allow_negative, r.barcode, r.options, r.unit, r.pack
    FROM jsonb_to_recordset(${doc(variants)}::jsonb) AS r(handle text, sku text, barcode text, options jsonb, unit text, pack int)
    JOIN items i ON i.handle = r.handle
    ORDER BY r.sku
    ON CONFLICT (sku) DO UPDATE SET barcode = excluded.barcode, options = excluded.options, unit_of_measure = excluded.unit_of_measure,
      pack_size = excluded.pack_size, updated_at = now()
    WHERE (variants.barcode, variants.options, variants.unit_of_measure, variants.pack_size)
      IS DISTINCT FROM (excluded.barcode, excluded.options, excluded.unit_of_measure, excluded.pack_size)`;
  const priced = rows.filter((r) => r.price !== undefined || r.cost !== undefined).map((r) => ({ sku: r.sku, price: r.price ?? null, cost: r.cost ?? null, currency: r.currency }));
  const prices =
    priced.length === 0
      ? []
      : await tx`
          INSERT INTO variant_prices (variant_id, price, cost, currency, source)
          SELECT v.id, r.price, r.cost, r.currency, ${actor}
          FROM jsonb_to_recordset(${doc(priced)}::jsonb) AS r(sku text, price numeric, cost numeric, currency text)
          JOIN variants v ON v.sku = r.sku
          LEFT JOIN LATERAL (
            SELECT price, cost, currency FROM variant_prices p WHERE p.variant_id = v.id ORDER BY valid_from DESC, id DESC LIMIT 1
          ) latest ON true
          WHERE latest IS NULL OR (latest.price, latest.cost, latest.currency) IS DISTINCT FROM (r.price, r.cost, r.currency)
          RETURNING 1`;
  return { items: items.length, variants: rows.length, prices: prices.length };
}

async function upsertSupplierVariants(tx: Sql, rows: ImportRecordOf<'supplier_variant'>[]): Promise<number> {
  if (rows.length === 0) return 0;
  await tx`
    INSERT INTO supplier_variants (supplier_id, variant_id, cost, currency)
    SELECT r."supplierId", v.id, r.cost, r.currency
    FROM jsonb_to_recordset(${doc(rows)}::jsonb) AS r("supplierId" text, sku text, cost numeric, currency text)
    JOIN variants v ON v.sku = r.sku
    ORDER BY r."supplierId", v.id
    ON CONFLICT (supplier_id, variant_id) DO UPDATE SET cost = excluded.cost, currency = excluded.currency, updated_at = now()`;
  return rows.length;
}

async function setOpeningBalances(tx: Sql, importId: string, rows: ImportRecordOf<'balance'>[], actor: string): Promise<{ applied: number; refused: ImportProblem[] }> {
  if (rows.length === 0) return { applied: 0, refused: [] };
  const ops: BatchOperation[] = rows.map((r) => ({
    kind: 'set_on_hand',
    idempotencyKey: idempotencyKeys.openingBalance(importId, r.row),
    actor,
    sourceRef: importId,
    sku: r.sku,
    location: r.location,
    quantity: r.onHand,
    reasonCode: 'opening_balance',
  }));
  const outcomes = await applyStockOperations(tx, ops);
  const refused: ImportProblem[] = [];
  outcomes.forEach((outcome, n) => {
    if ('refusal' in outcome) refused.push({ row: rows[n].row, column: 'onHand', reason: outcome.refusal.message });
  });
  return { applied: rows.length - refused.length, refused };
}
