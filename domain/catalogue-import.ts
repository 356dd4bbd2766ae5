import type { z } from 'zod';
import {
  ImportRecordBody,
  type ImportProblem,
  type ImportRecord,
  type ImportRecordOf,
  type StoredImportFormat,
} from '../schemas/catalogue';
import { isSkuAndLocation } from '../schemas/common';
import { MOVEMENT_LIMIT } from './balance';
import { CsvFormatError, CsvReader, type CsvRecord } from './csv';

/**
 * Reading a catalogue import (pure): a file in one of the accepted formats becomes normalised
 * records, each with the row it came from, plus every problem found, the rows deliberately
 * skipped and the columns not read. Checking the records against each other and the catalogue
 * that exists is `checkImport`; nothing here touches the database.
 *
 * A large file is read as a stream of records (`ImportReader`), twice: once for what the check
 * needs of each record (`keyMaker`), once for the records to apply, placed in their chunks as they
 * arrive (`ApplyChunks`). Its records are never all held at once.
 */

/** What reading a file finds besides its records; complete once its records have all been read. */
export interface ImportFindings {
  /** Data rows (CSV lines after the header, or records of a JSON document). */
  rows: number;
  problems: ImportProblem[];
  skippedRows: { row: number; reason: string }[];
  ignoredColumns: string[];
}

export interface ParsedImport extends ImportFindings {
  records: ImportRecord[];
}

/** A file that cannot be read at all (not CSV, not JSON, no header): refused before it is stored. */
export class ImportFormatError extends Error {
  readonly name = 'ImportFormatError';
}

export const noFindings = (): ImportFindings => ({ rows: 0, problems: [], skippedRows: [], ignoredColumns: [] });

/** Characters handed to the reader at a time when a whole body is read. */
const SLICE = 1 << 20;

/**
 * The file's records in row order (records of one row in the order they were made), read as they
 * are asked for; `findings` is filled in as they are read. The same file always gives the same
 * records. A file that is no import of its format throws ImportFormatError.
 */
export function* readImport(format: StoredImportFormat, body: string, currency: string, findings: ImportFindings = noFindings()): Generator<ImportRecord, void> {
  const reader = new ImportReader(format, currency, findings);
  for (let at = 0; at < body.length; at += SLICE) yield* reader.write(body.slice(at, at + SLICE));
  yield* reader.end();
}

/** The file's data rows, read through without holding its records (a file that is no import of its format throws ImportFormatError). */
export function rowsOf(format: StoredImportFormat, body: string, currency: string): number {
  const findings = noFindings();
  const records = readImport(format, body, currency, findings);
  while (!records.next().done);
  return findings.rows;
}

/** The whole file read at once: for a file small enough to hold (and for tests). */
export function parseImport(format: StoredImportFormat, body: string, currency: string): ParsedImport {
  const findings = noFindings();
  const records = [...readImport(format, body, currency, findings)];
  return { ...findings, records };
}

/** How a CSV format reads its rows, once its header is read: each row's records as it is read, at the end those that need every row. */
interface RowReader {
  row(line: number, fields: string[], emit: (record: ImportRecord) => void): void;
  /** Gives the records that waited for the last row; returns the columns not read. */
  end(emit: (record: ImportRecord) => void): string[];
}

const CSV_FORMATS: Record<Exclude<StoredImportFormat, 'stockflow-json'>, (header: string[], out: Collector, currency: string) => RowReader> = {
  'stockflow-csv': stockflowCsvRows,
  'shopify-products': shopifyProductRows,
  'shopify-inventory': shopifyInventoryRows,
};

/**
 * Reads a file given as pieces of its text (in order, split anywhere): `write` gives the records
 * the pieces so far complete, `end` the rest, and `findings` is complete after `end`. Only a CSV
 * row split across pieces waits; a JSON document is read at its end.
 */
export class ImportReader {
  private readonly out: Collector;
  private readonly csv = new CsvReader();
  private rows?: RowReader;
  private rowCount = 0;
  private readonly json: string[] = [];

  constructor(
    private readonly format: StoredImportFormat,
    private readonly currency: string,
    findings: ImportFindings = noFindings(),
  ) {
    this.out = new Collector(findings);
  }

  write(piece: string): ImportRecord[] {
    if (this.format === 'stockflow-json') {
      this.json.push(piece);
      return [];
    }
    return this.fromCsv(() => this.csv.write(piece));
  }

  end(): ImportRecord[] {
    if (this.format === 'stockflow-json') return readStockflowJson(this.json.join(''), this.out);
    const records = this.fromCsv(() => this.csv.end());
    if (!this.rows) throw new ImportFormatError('the CSV has no header row');
    this.out.finish(this.rowCount, this.rows.end((record) => records.push(record)));
    return records;
  }

  private fromCsv(read: () => CsvRecord[]): ImportRecord[] {
    let rows: CsvRecord[];
    try {
      rows = read();
    } catch (error) {
      if (error instanceof CsvFormatError) throw new ImportFormatError(`not CSV: ${error.message}`);
      throw error;
    }
    const records: ImportRecord[] = [];
    const emit = (record: ImportRecord) => records.push(record);
    for (const { line, fields } of rows) {
      if (this.rows) {
        this.rowCount++;
        this.rows.row(line, fields, emit);
      } else {
        this.rows = CSV_FORMATS[this.format as keyof typeof CSV_FORMATS](fields, this.out, this.currency);
      }
    }
    return records;
  }
}

/**
 * A balance that ImportBalance would accept as it is, checked without building zod's result: most
 * records of a large file are balances, and this keeps reading them fast and their records small.
 */
function isBalance(b: { sku?: unknown; location?: unknown; onHand?: unknown }): b is { sku: string; location: string; onHand: number } {
  return (
    typeof b.sku === 'string' &&
    typeof b.location === 'string' &&
    isSkuAndLocation(b.sku, b.location) &&
    Number.isInteger(b.onHand) &&
    Math.abs(b.onHand as number) <= MOVEMENT_LIMIT
  );
}

/** Makes records from candidates into the findings' problems and skipped rows; a record that fails its schema becomes one problem per bad field. */
class Collector {
  constructor(private readonly findings: ImportFindings) {}

  /** The record, or undefined when the candidate is not one (its problems are found). */
  add(row: number, candidate: unknown, columnOf: (path: string) => string): ImportRecord | undefined {
    const balance = candidate as { kind?: unknown; sku?: unknown; location?: unknown; onHand?: unknown };
    if (balance.kind === 'balance' && isBalance(balance)) return { kind: 'balance', sku: balance.sku, location: balance.location, onHand: balance.onHand, row };
    const parsed = ImportRecordBody.safeParse(candidate);
    if (!parsed.success) {
      this.fail(row, parsed.error, columnOf);
      return undefined;
    }
    return { ...parsed.data, row } as ImportRecord;
  }

  problem(row: number, column: string, reason: string): void {
    this.findings.problems.push({ row, column, reason });
  }

  skipped(row: number, reason: string): void {
    this.findings.skippedRows.push({ row, reason });
  }

  private fail(row: number, error: z.ZodError, columnOf: (path: string) => string): void {
    for (const issue of error.issues) this.problem(row, columnOf(issue.path.map(String).join('.') || 'kind'), issue.message);
  }

  finish(rows: number, ignoredColumns: string[]): void {
    this.findings.rows = rows;
    this.findings.ignoredColumns = ignoredColumns;
  }
}

/** Text cells as the CSV has them: blank is absent. */
function cell(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** A number cell as a number when it reads as one, else as the text (the schema then names it). */
function numberCell(value: string | undefined): number | string | undefined {
  const text = cell(value);
  if (text === undefined) return undefined;
  const n = Number(text.replace(/,/g, ''));
  return Number.isFinite(n) && /^[-+]?[\d,]*\.?\d*$/.test(text) ? n : text;
}

const TRUE = new Set(['true', 'yes', 'y', '1', 'continue']);
const FALSE = new Set(['false', 'no', 'n', '0', 'deny']);

function booleanCell(value: string | undefined): boolean | string | undefined {
  const text = cell(value)?.toLowerCase();
  if (text === undefined) return undefined;
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return text;
}

const listCell = (value: string | undefined, separator: string | RegExp) =>
  cell(value)
    ?.split(separator)
    .map((t) => t.trim())
    .filter((t) => t !== '') ?? [];

/** Header names looked up without regard to case or surrounding spaces; records which ones were read. */
class Columns {
  private readonly index = new Map<string, number>();
  private readonly read = new Set<number>();

  constructor(private readonly header: string[]) {
    header.forEach((name, i) => {
      const key = name.trim().toLowerCase();
      if (!this.index.has(key)) this.index.set(key, i);
    });
  }

  /** The first of the names the header has (one column, under its old or new Shopify name). */
  find(...names: string[]): number | undefined {
    for (const name of names) {
      const i = this.index.get(name.toLowerCase());
      if (i !== undefined) {
        this.read.add(i);
        return i;
      }
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.index.has(name.toLowerCase());
  }

  /** The header's name of a column, as the file spells it. */
  nameOf(i: number | undefined, fallback: string): string {
    return i === undefined ? fallback : this.header[i].trim();
  }

  matching(pattern: RegExp): number[] {
    return this.header.flatMap((name, i) => (pattern.test(name.trim()) ? [i] : []));
  }

  markRead(i: number): void {
    this.read.add(i);
  }

  ignored(): string[] {
    return this.header.flatMap((name, i) => (this.read.has(i) || name.trim() === '' ? [] : [name.trim()]));
  }
}

// The stockflow CSV: one record per row, its kind in the `record` column.

const STOCKFLOW_COLUMNS: Record<string, string> = {
  code: 'code',
  name: 'name',
  locationKind: 'location_kind',
  channels: 'channels',
  handle: 'handle',
  itemName: 'title',
  vendor: 'vendor',
  tags: 'tags',
  allowNegative: 'allow_negative',
  sku: 'sku',
  barcode: 'barcode',
  unitOfMeasure: 'unit',
  packSize: 'pack_size',
  price: 'price',
  cost: 'cost',
  currency: 'currency',
  id: 'supplier',
  supplierId: 'supplier',
  location: 'location',
  leadTimeDays: 'lead_time_days',
  moq: 'moq',
  onHand: 'on_hand',
};

function stockflowCsvRows(header: string[], out: Collector): RowReader {
  const columns = new Columns(header);
  const at = (name: string) => columns.find(name);
  const kindColumn = at('record');
  if (kindColumn === undefined) throw new ImportFormatError('a stockflow CSV needs a "record" column (location, variant, supplier, supplier_variant or balance)');
  const i = Object.fromEntries(Object.entries(STOCKFLOW_COLUMNS).map(([field, name]) => [field, at(name)])) as Record<string, number | undefined>;
  const optionColumns = columns.matching(/^option:/i);
  optionColumns.forEach((c) => columns.markRead(c));
  const optionsOf = (fields: string[]) => {
    const options: Record<string, string> = {};
    for (const c of optionColumns) {
      const value = cell(fields[c]);
      if (value !== undefined) options[header[c].trim().slice('option:'.length)] = value;
    }
    return options;
  };
  const columnOf = (path: string) => {
    const field = path.split('.')[0];
    if (field === 'options') return `option:${path.split('.')[1] ?? ''}`;
    return STOCKFLOW_COLUMNS[field] ?? (field === 'kind' ? 'record' : field);
  };
  return {
    row(line, fields, emit) {
      const get = (field: string) => (i[field] === undefined ? undefined : fields[i[field] as number]);
      const kind = cell(fields[kindColumn])?.toLowerCase();
      const record = out.add(line, stockflowCandidate(kind, get, () => optionsOf(fields)), columnOf);
      if (record) emit(record);
    },
    end: () => columns.ignored(),
  };
}

/**
 * The fields of one kind of record, from its row; the rest of the row is not looked at. (A large
 * file is mostly balances: building only their four fields keeps its reading fast and small.)
 */
function stockflowCandidate(kind: string | undefined, get: (field: string) => string | undefined, options: () => Record<string, string>): Record<string, unknown> {
  const text = (field: string) => cell(get(field));
  const number = (field: string) => numberCell(get(field));
  switch (kind) {
    case 'balance':
      return { kind, sku: text('sku'), location: text('location'), onHand: number('onHand') };
    case 'location':
      return { kind, code: text('code'), name: text('name'), locationKind: text('locationKind'), channels: listCell(get('channels'), /[;|]/) };
    case 'variant':
      return {
        kind,
        handle: text('handle'),
        itemName: text('itemName'),
        vendor: text('vendor'),
        tags: listCell(get('tags'), ','),
        allowNegative: booleanCell(get('allowNegative')),
        sku: text('sku'),
        barcode: text('barcode'),
        options: options(),
        unitOfMeasure: text('unitOfMeasure'),
        packSize: number('packSize'),
        price: number('price'),
        cost: number('cost'),
        currency: text('currency'),
      };
    case 'supplier':
      return { kind, id: text('id'), name: text('name'), location: text('location'), leadTimeDays: number('leadTimeDays'), moq: number('moq'), packSize: number('packSize'), currency: text('currency') };
    case 'supplier_variant':
      return { kind, supplierId: text('supplierId'), sku: text('sku'), cost: number('cost'), currency: text('currency') };
    default:
      return { kind };
  }
}

// The stockflow JSON document.

const JSON_SECTIONS: Record<string, string[]> = {
  '': ['importId', 'locations', 'items', 'suppliers', 'balances'],
  locations: ['code', 'name', 'kind', 'channels'],
  items: ['handle', 'name', 'vendor', 'tags', 'allowNegative', 'variants'],
  'items.variants': ['sku', 'barcode', 'options', 'unitOfMeasure', 'packSize', 'price', 'cost', 'currency'],
  suppliers: ['id', 'name', 'location', 'leadTimeDays', 'moq', 'packSize', 'currency', 'variants'],
  'suppliers.variants': ['sku', 'cost', 'currency'],
  balances: ['sku', 'location', 'onHand'],
};

/** A JSON document is held whole once parsed, and its records with it. */
function readStockflowJson(body: string, out: Collector): ImportRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (error) {
    throw new ImportFormatError(`not JSON: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ImportFormatError('a stockflow JSON import is an object with locations, items, suppliers and balances');
  const records: ImportRecord[] = [];
  const ignored = new Set<string>();
  const objectsOf = (value: unknown, path: string, section: string): Record<string, unknown>[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      out.problem(0, path, 'must be an array');
      return [];
    }
    return value.map((v, n) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        out.problem(0, `${path}.${n}`, 'must be an object');
        return {};
      }
      for (const key of Object.keys(v)) if (!JSON_SECTIONS[section].includes(key)) ignored.add(section ? `${section}.${key}` : key);
      return v as Record<string, unknown>;
    });
  };
  const root = doc as Record<string, unknown>;
  objectsOf([root], '', '');
  let row = 0;
  const add = (candidate: Record<string, unknown>, path: string, rename: Record<string, string> = {}) => {
    const record = out.add(++row, candidate, (field) => {
      const [head, ...rest] = field.split('.');
      return [path, rename[head] ?? head, ...rest].join('.');
    });
    if (record) records.push(record);
  };
  objectsOf(root.locations, 'locations', 'locations').forEach((l, n) => add({ ...l, kind: 'location', locationKind: l.kind }, `locations.${n}`, { locationKind: 'kind' }));
  objectsOf(root.items, 'items', 'items').forEach((item, n) => {
    const { variants, name, ...fields } = item;
    const list = objectsOf(variants, `items.${n}.variants`, 'items.variants');
    if (list.length === 0) out.problem(++row, `items.${n}.variants`, 'must list at least one variant: Stockflow keeps stock per SKU');
    list.forEach((v, m) =>
      add({ ...fields, itemName: name, ...v, kind: 'variant' }, `items.${n}`, Object.fromEntries(Object.keys(v).map((k) => [k, `variants.${m}.${k}`]).concat([['itemName', 'name']]))),
    );
  });
  objectsOf(root.suppliers, 'suppliers', 'suppliers').forEach((s, n) => {
    const { variants, ...supplier } = s;
    add({ ...supplier, kind: 'supplier' }, `suppliers.${n}`);
    objectsOf(variants, `suppliers.${n}.variants`, 'suppliers.variants').forEach((v, m) =>
      add({ ...v, kind: 'supplier_variant', supplierId: supplier.id }, `suppliers.${n}.variants.${m}`, { supplierId: 'id' }),
    );
  });
  objectsOf(root.balances, 'balances', 'balances').forEach((b, n) => add({ ...b, kind: 'balance' }, `balances.${n}`));
  out.finish(row, [...ignored]);
  return records;
}

// Shopify's product export, under its legacy and its 2025 column names.

interface ProductState {
  title?: string;
  vendor?: string;
  tags: string[];
  optionNames: (string | undefined)[];
  continueSelling: boolean;
  variants: Record<string, unknown>[];
}

/** A product's variants are gathered from all its rows before they become records: the file's variants are held, then given in row order. */
function shopifyProductRows(header: string[], out: Collector, currency: string): RowReader {
  const columns = new Columns(header);
  const col = {
    handle: columns.find('Handle', 'URL handle'),
    title: columns.find('Title'),
    vendor: columns.find('Vendor'),
    tags: columns.find('Tags'),
    sku: columns.find('Variant SKU', 'SKU'),
    barcode: columns.find('Variant Barcode', 'Barcode'),
    price: columns.find('Variant Price', 'Price'),
    cost: columns.find('Cost per item'),
    policy: columns.find('Variant Inventory Policy', 'Continue selling when out of stock', 'Inventory policy'),
    optionName: [1, 2, 3].map((n) => columns.find(`Option${n} Name`)),
    optionValue: [1, 2, 3].map((n) => columns.find(`Option${n} Value`)),
  };
  if (col.handle === undefined) throw new ImportFormatError('not a Shopify product export: no "Handle" (or "URL handle") column');
  if (col.sku === undefined) throw new ImportFormatError('not a Shopify product export: no "Variant SKU" (or "SKU") column');
  const name = (c: keyof typeof col, fallback: string) => columns.nameOf(col[c] as number | undefined, fallback);
  const products = new Map<string, ProductState>();
  const row = (line: number, fields: string[]) => {
    const get = (i: number | undefined) => (i === undefined ? undefined : cell(fields[i]));
    const handle = get(col.handle);
    if (handle === undefined) {
      out.problem(line, name('handle', 'Handle'), 'must not be empty');
      return;
    }
    let product = products.get(handle);
    const title = get(col.title);
    if (!product) {
      product = { tags: [], optionNames: [], continueSelling: false, variants: [] };
      products.set(handle, product);
    }
    if (title !== undefined && product.title === undefined) {
      product.title = title;
      product.vendor = get(col.vendor);
      product.tags = listCell(fields[col.tags ?? -1], ',');
      product.optionNames = col.optionName.map(get);
    }
    const sku = get(col.sku);
    const values = col.optionValue.map(get);
    const price = get(col.price);
    if (sku === undefined && values.every((v) => v === undefined) && price === undefined) {
      out.skipped(line, 'an image row: no SKU, option values or price');
      return;
    }
    if (product.title === undefined) {
      out.problem(line, name('title', 'Title'), `the first row of product "${handle}" must carry its title`);
      return;
    }
    const policy = booleanCell(fields[col.policy ?? -1]);
    if (typeof policy === 'string') {
      out.problem(line, name('policy', 'Variant Inventory Policy'), 'must be deny or continue');
      return;
    }
    if (policy === true) product.continueSelling = true;
    const options: Record<string, string> = {};
    values.forEach((value, n) => {
      const optionName = get(col.optionName[n]) ?? product.optionNames[n];
      if (value === undefined || (optionName === 'Title' && value === 'Default Title')) return;
      options[optionName ?? `Option${n + 1}`] = value;
    });
    product.variants.push({
      row: line,
      kind: 'variant',
      handle,
      sku,
      barcode: get(col.barcode),
      options,
      price: numberCell(fields[col.price ?? -1]),
      cost: numberCell(fields[col.cost ?? -1]),
      currency,
    });
  };
  const columnOf = (path: string) => {
    const field = path.split('.')[0];
    const names: Record<string, string> = {
      handle: name('handle', 'Handle'),
      itemName: name('title', 'Title'),
      vendor: name('vendor', 'Vendor'),
      tags: name('tags', 'Tags'),
      sku: name('sku', 'Variant SKU'),
      barcode: name('barcode', 'Variant Barcode'),
      price: name('price', 'Variant Price'),
      cost: name('cost', 'Cost per item'),
      options: 'Option1 Value',
    };
    return names[field] ?? field;
  };
  const end = (emit: (record: ImportRecord) => void) => {
    const records: ImportRecord[] = [];
    for (const product of products.values()) {
      // Shopify sets the policy per variant; Stockflow keeps it per item, so one variant that may be oversold makes the item backorderable.
      for (const { row, ...variant } of product.variants) {
        if (variant.sku === undefined) {
          out.problem(row as number, name('sku', 'Variant SKU'), 'must not be empty: Stockflow keeps stock per SKU');
          continue;
        }
        const record = out.add(row as number, { ...variant, itemName: product.title, vendor: product.vendor, tags: product.tags, allowNegative: product.continueSelling }, columnOf);
        if (record) records.push(record);
      }
    }
    records.sort((a, b) => a.row - b.row).forEach(emit);
    return columns.ignored();
  };
  return { row, end };
}

// Shopify's inventory export: one row per SKU and location.

const NOT_STOCKED = 'not stocked';

function shopifyInventoryRows(header: string[], out: Collector): RowReader {
  const columns = new Columns(header);
  const col = {
    sku: columns.find('SKU', 'Variant SKU'),
    location: columns.find('Location'),
    onHandNew: columns.find('On hand (new)'),
    onHandCurrent: columns.find('On hand (current)', 'On hand'),
  };
  if (col.sku === undefined || col.location === undefined || (col.onHandNew === undefined && col.onHandCurrent === undefined)) {
    throw new ImportFormatError('not a Shopify inventory export: it needs the columns SKU, Location and On hand (current) or On hand (new)');
  }
  columns.find('Handle');
  const name = (c: keyof typeof col, fallback: string) => columns.nameOf(col[c], fallback);
  const codes = new LocationCodes();
  const row = (line: number, fields: string[], emit: (record: ImportRecord) => void) => {
    const get = (i: number | undefined) => (i === undefined ? undefined : cell(fields[i]));
    const sku = get(col.sku);
    const locationName = get(col.location);
    const newFigure = get(col.onHandNew);
    const column = newFigure !== undefined ? 'onHandNew' : 'onHandCurrent';
    const figure = newFigure ?? get(col.onHandCurrent);
    if (figure?.toLowerCase() === NOT_STOCKED) {
      out.skipped(line, `${sku ?? 'this SKU'} is not stocked at ${locationName ?? 'this location'}`);
      return;
    }
    if (locationName === undefined) {
      out.problem(line, name('location', 'Location'), 'must not be empty');
      return;
    }
    if (sku === undefined) {
      out.problem(line, name('sku', 'SKU'), 'must not be empty: Stockflow keeps stock per SKU');
      return;
    }
    const { code, location } = codes.codeFor(locationName, line, out);
    if (location) emit(location);
    const record = out.add(line, { kind: 'balance', sku, location: code, onHand: figure === undefined ? undefined : numberCell(figure) }, (path) =>
      path === 'onHand' ? name(column, 'On hand (current)') : path === 'sku' ? name('sku', 'SKU') : name('location', 'Location'),
    );
    if (record) emit(record);
  };
  return { row, end: () => columns.ignored() };
}

/** Location codes made from names, in file order; a name seen again gets the same code. A name seen first also makes its location record (or its problems). */
class LocationCodes {
  private readonly byName = new Map<string, string>();
  private readonly used = new Set<string>();

  codeFor(name: string, row: number, out: Collector): { code: string; location?: ImportRecord } {
    const key = name.toLowerCase();
    const known = this.byName.get(key);
    if (known) return { code: known };
    const base = codeFromName(name);
    let code = base;
    for (let n = 2; this.used.has(code); n++) code = `${base.slice(0, 28)}-${n}`;
    this.byName.set(key, code);
    this.used.add(code);
    return { code, location: out.add(row, { kind: 'location', code, name, locationKind: 'warehouse' }, () => 'Location') };
  }
}

/** "Shop location #2" → "SHOP-LOCATION-2": a code the API accepts, from a location's name. */
export function codeFromName(name: string): string {
  const code = name
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return code === '' ? 'LOCATION' : code;
}

// Checking the records against each other and against the catalogue that exists.

/** What the database already holds that an import's records refer to. */
export interface KnownCatalogue {
  /** SKU → its item's handle (null for an item without one) and negative policy. */
  skus: Map<string, { handle: string | null; allowNegative: boolean }>;
  /** Location code → name. */
  locations: Map<string, string>;
  suppliers: Set<string>;
}

/** What the check reads of a record: its kind and row, and the fields that name something or refer to something. */
export type RecordKey =
  | Pick<ImportRecordOf<'location'>, 'kind' | 'row' | 'code' | 'name'>
  | Pick<ImportRecordOf<'variant'>, 'kind' | 'row' | 'sku' | 'handle' | 'allowNegative'>
  | Pick<ImportRecordOf<'supplier'>, 'kind' | 'row' | 'id' | 'location'>
  | Pick<ImportRecordOf<'supplier_variant'>, 'kind' | 'row' | 'supplierId' | 'sku'>
  | Pick<ImportRecordOf<'balance'>, 'kind' | 'row' | 'sku' | 'location' | 'onHand'>;

/**
 * What makes a file's record keys: each name (SKU, code, supplier id, handle) is held once however
 * many records give it (a SKU's balances at every location share its string), as a copy that keeps
 * no piece of the file's text alive.
 */
export function keyMaker(): (record: ImportRecord) => RecordKey {
  const names = new Map<string, string>();
  const shared = (name: string) => {
    let held = names.get(name);
    if (held === undefined) names.set(name, (held = JSON.parse(JSON.stringify(name)) as string));
    return held;
  };
  return (r) => {
    switch (r.kind) {
      case 'location':
        return { kind: r.kind, row: r.row, code: shared(r.code), name: r.name };
      case 'variant':
        return { kind: r.kind, row: r.row, sku: shared(r.sku), handle: shared(r.handle), allowNegative: r.allowNegative };
      case 'supplier':
        return { kind: r.kind, row: r.row, id: shared(r.id), location: shared(r.location) };
      case 'supplier_variant':
        return { kind: r.kind, row: r.row, supplierId: shared(r.supplierId), sku: shared(r.sku) };
      case 'balance':
        return { kind: r.kind, row: r.row, sku: shared(r.sku), location: shared(r.location), onHand: r.onHand };
    }
  };
}

type Kind = ImportRecord['kind'];

/** Records to apply of each kind. */
export type KindCounts = Record<Kind, number>;

export interface CheckedImport {
  problems: ImportProblem[];
  excludedRows: number[];
  /** Codes made from location names (Shopify's inventory export) → the existing location of that name. */
  locationCodes: Record<string, string>;
  /** The records that pass, of each kind: what `applyChunks` places. */
  toApply: KindCounts;
}

/** Kinds in the order they are applied: what a record refers to is applied before it. */
const APPLY_ORDER: readonly Kind[] = ['location', 'supplier', 'variant', 'supplier_variant', 'balance'];

/** Names a file may have for its pairs of names to be numbers told apart exactly (2^26 · 2^26 < 2^53). */
const PAIRED = 2 ** 26;

export const totalOf = (counts: KindCounts) => APPLY_ORDER.reduce((sum, kind) => sum + counts[kind], 0);

/**
 * Matches location names to existing locations, then checks every record against the file and the
 * catalogue: each SKU, location and supplier once per file; references resolve to a good record
 * of the file or to the catalogue; a SKU that exists stays with its item; a negative opening
 * balance only where the item allows it. A record that refers to a refused one is refused too.
 * `found` is the file's record keys in row order with the problems reading it found.
 */
export function checkImport(found: { records: readonly RecordKey[]; problems: readonly ImportProblem[] }, known: KnownCatalogue, nameMatches: Map<string, string>): CheckedImport {
  const problems = [...found.problems];
  const bad = new Set(found.problems.map((p) => p.row));
  const refuse = (record: RecordKey, column: string, reason: string) => {
    problems.push({ row: record.row, column, reason });
    bad.add(record.row);
  };
  const locationCodes: Record<string, string> = {};
  for (const r of found.records) {
    const existing = r.kind === 'location' ? nameMatches.get(r.name.toLowerCase()) : undefined;
    if (r.kind === 'location' && existing !== undefined && existing !== r.code) locationCodes[r.code] = existing;
  }
  const records = Object.keys(locationCodes).length === 0 ? found.records : [...recordsToApply(found.records, new Set(), locationCodes)];

  // Names (codes, SKUs, supplier ids) as numbers, and a pair of them as one: a large file's
  // balances are told apart without a string made for each.
  const ids = new Map<string, number>();
  const idOf = (name: string) => {
    let id = ids.get(name);
    if (id === undefined) ids.set(name, (id = ids.size));
    if (id >= PAIRED) throw new Error(`a file naming more than ${PAIRED} SKUs, locations and suppliers cannot be checked`);
    return id;
  };
  const pair = (a: string, b: string) => idOf(a) * PAIRED + idOf(b);
  const firstRow: Record<Kind, Map<number, number>> = { location: new Map(), supplier: new Map(), variant: new Map(), supplier_variant: new Map(), balance: new Map() };
  const once = (record: RecordKey, key: number, column: string, what: string) => {
    const seen = firstRow[record.kind];
    const earlier = seen.get(key);
    if (earlier === undefined) seen.set(key, record.row);
    else refuse(record, column, `${what} is already on row ${earlier}`);
  };
  /** SKU → whether its item allows negative stock. */
  const fileSkus = new Map<string, boolean>();
  const fileLocations = new Set<string>();
  const fileSuppliers = new Set<string>();
  for (const r of records) {
    if (r.kind === 'location') {
      once(r, idOf(r.code), 'code', `location ${r.code}`);
      if (!bad.has(r.row)) fileLocations.add(r.code);
    } else if (r.kind === 'variant') {
      once(r, idOf(r.sku), 'sku', `SKU ${r.sku}`);
      const existing = known.skus.get(r.sku);
      if (existing && existing.handle !== r.handle) refuse(r, 'handle', `SKU ${r.sku} belongs to ${existing.handle ? `item "${existing.handle}"` : 'an item without a handle'}; a SKU stays with its item`);
      if (!bad.has(r.row)) fileSkus.set(r.sku, r.allowNegative);
    }
  }
  const locationKnown = (code: string) => fileLocations.has(code) || known.locations.has(code);
  for (const r of records) {
    if (r.kind === 'supplier') {
      once(r, idOf(r.id), 'id', `supplier ${r.id}`);
      if (!locationKnown(r.location)) refuse(r, 'location', `unknown location "${r.location}"`);
      if (!bad.has(r.row)) fileSuppliers.add(r.id);
    }
  }
  const skuKnown = (sku: string) => fileSkus.has(sku) || known.skus.has(sku);
  for (const r of records) {
    if (r.kind === 'supplier_variant') {
      once(r, pair(r.supplierId, r.sku), 'sku', `${r.sku} of supplier ${r.supplierId}`);
      if (!fileSuppliers.has(r.supplierId) && !known.suppliers.has(r.supplierId)) refuse(r, 'supplier', `unknown supplier "${r.supplierId}"`);
      if (!skuKnown(r.sku)) refuse(r, 'sku', `unknown SKU "${r.sku}": not in this file (or refused) and not in the catalogue`);
    } else if (r.kind === 'balance') {
      once(r, pair(r.sku, r.location), 'sku', `the balance of ${r.sku} at ${r.location}`);
      if (!skuKnown(r.sku)) refuse(r, 'sku', `unknown SKU "${r.sku}": not in this file (or refused) and not in the catalogue`);
      if (!locationKnown(r.location)) refuse(r, 'location', `unknown location "${r.location}"`);
      const allowNegative = fileSkus.get(r.sku) ?? known.skus.get(r.sku)?.allowNegative ?? false;
      if (r.onHand < 0 && !allowNegative) refuse(r, 'onHand', `${r.onHand} is below 0 and the item of ${r.sku} does not allow negative stock`);
    }
  }
  problems.sort((a, b) => a.row - b.row);
  return { problems, excludedRows: [...bad].sort((a, b) => a - b), locationCodes, toApply: countKinds(recordsToApply(records, bad, {})) };
}

/**
 * The records to apply, in file order, from the file and what its check decided (stored with the
 * import): the excluded rows left out, and locations matched by name to an existing one under
 * another code renamed (the file's record goes, its balances move to the existing code).
 */
export function* recordsToApply<R extends RecordKey>(records: Iterable<R>, excludedRows: ReadonlySet<number>, locationCodes: Record<string, string>): Generator<R> {
  for (const r of records) {
    if (excludedRows.has(r.row)) continue;
    if (r.kind === 'location' && locationCodes[r.code] !== undefined) continue;
    yield r.kind === 'balance' && locationCodes[r.location] !== undefined ? { ...r, location: locationCodes[r.location] } : r;
  }
}

/** The records of each kind, added to `counts` when given. */
export function countKinds(records: Iterable<RecordKey>, counts: KindCounts = { location: 0, supplier: 0, variant: 0, supplier_variant: 0, balance: 0 }): KindCounts {
  for (const r of records) counts[r.kind]++;
  return counts;
}

/** A chunk of records to apply, as one JSON array: what is staged for one chunk activity. */
export interface ApplyChunk {
  chunkNo: number;
  records: string;
}

/**
 * Places the records to apply (given in file order, as many of each kind as `counts` says) in
 * chunks of `chunkSize` in the order they are applied: by kind (APPLY_ORDER), then row. A record's
 * place follows from its kind's count and the counts of the kinds before it, so each chunk is given
 * as soon as its last record is placed, and only chunks still being filled are held.
 */
export class ApplyChunks {
  private readonly next = {} as KindCounts;
  private readonly end = {} as KindCounts;
  private readonly total: number;
  private readonly filling = new Map<number, { texts: string[]; filled: number }>();

  constructor(
    counts: KindCounts,
    private readonly chunkSize: number,
  ) {
    let start = 0;
    for (const kind of APPLY_ORDER) {
      this.next[kind] = start;
      start += counts[kind];
      this.end[kind] = start;
    }
    this.total = start;
  }

  /** The chunks these records complete. */
  *place(records: Iterable<ImportRecord>): Generator<ApplyChunk> {
    for (const record of records) {
      const at = this.next[record.kind]++;
      if (at >= this.end[record.kind]) throw mismatch();
      const chunkNo = Math.floor(at / this.chunkSize);
      let chunk = this.filling.get(chunkNo);
      if (!chunk) this.filling.set(chunkNo, (chunk = { texts: [], filled: 0 }));
      chunk.texts[at - chunkNo * this.chunkSize] = JSON.stringify(record);
      chunk.filled++;
      if (chunk.filled === Math.min(this.chunkSize, this.total - chunkNo * this.chunkSize)) {
        this.filling.delete(chunkNo);
        yield { chunkNo, records: `[${chunk.texts.join(',')}]` };
      }
    }
  }

  /** Throws unless every record counted was placed. */
  finish(): void {
    if (APPLY_ORDER.some((kind) => this.next[kind] !== this.end[kind])) throw mismatch();
  }
}

const mismatch = () => new Error('the file gave other records to apply than its check counted');

/** All the chunks of records held at once (see ApplyChunks). */
export function* applyChunks(records: Iterable<ImportRecord>, counts: KindCounts, chunkSize: number): Generator<ApplyChunk> {
  const chunks = new ApplyChunks(counts, chunkSize);
  yield* chunks.place(records);
  chunks.finish();
}
