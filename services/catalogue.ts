import {
  addVariant,
  createItem as saveItem,
  getItem,
  getLocation,
  getVariant,
  listItems,
  listLocations,
  listVariants,
  setItemArchived,
  setLocationArchived,
  setVariantArchived,
  updateItem as saveItemUpdate,
  updateVariant as saveVariantUpdate,
  upsertLocation,
} from '../db/catalogue';
import { findImport, storeImport } from '../db/catalogue-import';
import { listBalances, stockLevelsAsOf } from '../db/stock-views';
import { getSupplier, listSuppliers, setSupplierVariants } from '../db/suppliers';
import { ImportFormatError, rowsOf } from '../domain/catalogue-import';
import { workflowIds } from '../domain/keys';
import { Refusal } from '../domain/refusal';
import type {
  Archival,
  ImportFormat,
  ItemCreate,
  ItemUpdate,
  ListQuery,
  LocationUpsert,
  StockListQuery,
  StoredImportFormat,
  VariantFields,
  VariantUpdate,
} from '../schemas/catalogue';
import { catalogueImportProgressQuery, type catalogueImport } from '../workflows/catalogue-import';
import { StockflowFlow } from '../workflows/search-attributes';
import type { Services } from './context';
import { startOrAttach } from './outcome';

// The catalogue: one function per request, used by the API (and through it the CLI), tests and benchmarks.

export const createItem = (s: Services, input: ItemCreate, actor: string) => saveItem(s.db, input, actor);
export const updateItem = (s: Services, id: number, update: ItemUpdate, actor: string) => saveItemUpdate(s.db, id, update, actor);
export const itemsPage = (s: Services, q: ListQuery) => listItems(s.db, q);
export const addItemVariant = (s: Services, itemId: number, variant: VariantFields, actor: string) => addVariant(s.db, itemId, variant, actor);
export const updateVariant = (s: Services, sku: string, update: VariantUpdate, actor: string) => saveVariantUpdate(s.db, sku, update, actor);
export const variantsPage = (s: Services, q: ListQuery) => listVariants(s.db, q);
export const saveLocation = (s: Services, code: string, input: LocationUpsert, actor: string) => upsertLocation(s.db, code, input, actor);
export const locationsPage = (s: Services, q: ListQuery) => listLocations(s.db, q);
export const suppliersPage = (s: Services, q: ListQuery) => listSuppliers(s.db, q);
export const saveSupplierVariants = (s: Services, supplierId: string, entries: { sku: string; cost?: number; currency?: string }[]) =>
  setSupplierVariants(s.db, supplierId, entries);
export const stockPage = (s: Services, q: StockListQuery) => listBalances(s.db, q);

async function found<T>(what: Promise<T | undefined>, message: string, field: string): Promise<T> {
  const value = await what;
  if (value === undefined) throw new Refusal('not_found', message, field);
  return value;
}

export const item = (s: Services, id: number) => found(getItem(s.db, id), `no item ${id}`, 'itemId');
export const variant = (s: Services, sku: string) => found(getVariant(s.db, sku), `no SKU "${sku}"`, 'sku');
export const location = (s: Services, code: string) => found(getLocation(s.db, code), `no location "${code}"`, 'code');
export const supplier = (s: Services, id: string) => found(getSupplier(s.db, id), `no supplier "${id}"`, 'supplierId');
export const stockAsOf = (s: Services, sku: string, asOf: Date) => found(stockLevelsAsOf(s.db, sku, asOf), `no SKU "${sku}"`, 'sku');

/** Archiving refuses an item, variant or location that still holds stock (`archive_has_stock`); restoring brings it back. */
export const archiveItem = (s: Services, id: number, by: Archival) => setItemArchived(s.db, id, true, by);
export const restoreItem = (s: Services, id: number, by: Archival) => setItemArchived(s.db, id, false, by);
export const archiveVariant = (s: Services, sku: string, by: Archival) => setVariantArchived(s.db, sku, true, by);
export const restoreVariant = (s: Services, sku: string, by: Archival) => setVariantArchived(s.db, sku, false, by);
export const archiveLocation = (s: Services, code: string, by: Archival) => setLocationArchived(s.db, code, true, by);
export const restoreLocation = (s: Services, code: string, by: Archival) => setLocationArchived(s.db, code, false, by);

export interface ImportSubmission {
  format: ImportFormat;
  contentType: 'json' | 'csv';
  body: string;
  importId?: string;
  skipInvalid: boolean;
  currency: string;
}

export interface SubmittedImport {
  importId: string;
  workflowId: string;
  rows: number;
  /** False when this import had been received before: nothing new was started. */
  new: boolean;
}

function storedFormat(format: ImportFormat, contentType: 'json' | 'csv'): StoredImportFormat {
  if (format === 'stockflow') return contentType === 'json' ? 'stockflow-json' : 'stockflow-csv';
  if (contentType !== 'csv') throw new Refusal('unsupported_media_type', `a ${format} export is CSV: send it as text/csv`);
  return format;
}

/**
 * Reads the file once (a body that is no import of its format is refused, and nothing stored),
 * stores it whole, then starts (or finds) its `catalogueImport` workflow; only the stored
 * import's id travels through Temporal. The same import again starts nothing; the same import id
 * with another file or options is refused.
 */
export async function submitImport(s: Services, submission: ImportSubmission): Promise<SubmittedImport> {
  const format = storedFormat(submission.format, submission.contentType);
  let rows: number;
  let importId = submission.importId;
  try {
    rows = rowsOf(format, submission.body, submission.currency);
    if (format === 'stockflow-json' && importId === undefined) {
      const declared = (JSON.parse(submission.body) as { importId?: unknown }).importId;
      if (typeof declared === 'string') importId = declared;
    }
  } catch (error) {
    if (error instanceof ImportFormatError) throw new Refusal('invalid_import', error.message);
    throw error;
  }
  const stored = await storeImport(s.db, {
    importId,
    format,
    body: submission.body,
    options: { skipInvalid: submission.skipInvalid, currency: submission.currency },
    workflowIdFor: workflowIds.catalogueImport,
  });
  await startOrAttach(s.client, stored.workflowId, () =>
    s.client.workflow.start<typeof catalogueImport>('catalogueImport', {
      taskQueue: s.taskQueue,
      workflowId: stored.workflowId,
      args: [{ importPk: stored.importPk, importId: stored.importId, chunkSize: s.importChunkSize }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: StockflowFlow, value: 'catalogueImport' }],
      staticSummary: `${format} catalogue import ${stored.importId}: ${rows} rows${submission.skipInvalid ? ', skipping invalid rows' : ''}`,
    }),
  );
  return { importId: stored.importId, workflowId: stored.workflowId, rows, new: stored.created };
}

/** An import: its status and report, with live progress while it runs. */
export async function importStatus(s: Services, importId: string) {
  const stored = await found(findImport(s.db, importId), `no catalogue import "${importId}"`, 'importId');
  const finished = stored.status === 'applied' || stored.status === 'refused';
  const progress = finished ? undefined : await s.client.workflow.getHandle(stored.workflowId).query(catalogueImportProgressQuery).catch(() => undefined);
  return { importId, ...stored, progress };
}
