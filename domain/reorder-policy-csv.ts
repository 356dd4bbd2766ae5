import { ReorderPolicies, type ReorderPolicyEntry } from '../schemas/replenishment';
import { CsvFormatError, readCsv, selectColumns, type CsvTable } from './csv';

/**
 * Reorder policies as a CSV file, one SKU-location a row:
 * `kind,sku,location,supplier_id,reorder_point,order_quantity,safety_days,target_days,window_days,service_level`
 * (a static row fills reorder_point and order_quantity, a dynamic one safety_days, target_days and
 * optionally window_days and service_level). The header is matched without regard to case; columns a kind does not
 * use may be left out or empty.
 */
const REQUIRED = ['kind', 'sku', 'location', 'supplier_id'] as const;
const NUMBERS = ['reorder_point', 'order_quantity', 'safety_days', 'target_days', 'window_days', 'service_level'] as const;
type Column = (typeof REQUIRED)[number] | (typeof NUMBERS)[number];

/** The CSV column of each field of a policy, to name it in a problem. */
const COLUMN_OF: Record<string, Column> = {
  kind: 'kind',
  sku: 'sku',
  location: 'location',
  supplierId: 'supplier_id',
  reorderPoint: 'reorder_point',
  orderQuantity: 'order_quantity',
  safetyDays: 'safety_days',
  targetDays: 'target_days',
  windowDays: 'window_days',
  serviceLevel: 'service_level',
};

/** One bad cell: the data row (from 1, after the header), the line of the file it starts on, the column, and why. */
export interface CsvProblem {
  row: number;
  line: number;
  column: string;
  reason: string;
}

export type PoliciesFromCsv = { policies: ReorderPolicyEntry[] } | { problems: CsvProblem[] };

/** An empty cell is a value left out; any other text must be a number (and is refused by its rule if it is not). */
const numberCell = (cell: string | undefined) => (cell === undefined || cell.trim() === '' ? undefined : Number(cell.trim()));

const definedOnly = (entry: Record<string, unknown>) => Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined));

export function policiesFromCsv(text: string): PoliciesFromCsv {
  let table: CsvTable;
  try {
    table = readCsv(text);
  } catch (error) {
    if (error instanceof CsvFormatError) return { problems: [{ row: 0, line: error.line, column: '', reason: `not valid CSV: ${error.message}` }] };
    throw error;
  }
  const { missing, rows } = selectColumns(table, [...REQUIRED, ...NUMBERS]);
  const absent = missing.filter((c) => (REQUIRED as readonly string[]).includes(c));
  if (table.header.length === 0 || absent.length > 0) {
    return { problems: [{ row: 0, line: 1, column: absent.join(', ') || REQUIRED.join(', '), reason: `the header must name ${REQUIRED.join(', ')} (and the numbers the rows' kinds use)` }] };
  }
  // Cells left empty are fields left out, as a JSON policy would leave them.
  const entries = rows.map(({ cells }) => definedOnly({
    kind: cells.kind?.trim(),
    sku: cells.sku?.trim(),
    location: cells.location?.trim(),
    supplierId: cells.supplier_id?.trim(),
    reorderPoint: numberCell(cells.reorder_point),
    orderQuantity: numberCell(cells.order_quantity),
    safetyDays: numberCell(cells.safety_days),
    targetDays: numberCell(cells.target_days),
    windowDays: numberCell(cells.window_days),
    serviceLevel: numberCell(cells.service_level),
  }));
  const parsed = ReorderPolicies.shape.policies.safeParse(entries);
  if (parsed.success) return { policies: parsed.data };
  return {
    problems: parsed.error.issues.map((issue) => {
      const [index, field] = issue.path;
      const at = typeof index === 'number' ? index : -1;
      return { row: at + 1, line: rows[at]?.line ?? 1, column: COLUMN_OF[String(field)] ?? String(field ?? ''), reason: issue.message.replace(/policies\.(\d+)/g, (_, i: string) => `row ${Number(i) + 1}`) };
    }),
  };
}

/** Problems as one message: `row 2 (line 3), column reorder_point: must be …`. */
export function describeCsvProblems(problems: readonly CsvProblem[]): string {
  return problems.map((p) => `${p.row > 0 ? `row ${p.row} (line ${p.line})` : `line ${p.line}`}${p.column ? `, column ${p.column}` : ''}: ${p.reason}`).join('; ');
}
