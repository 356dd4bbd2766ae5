import { Context } from '@temporalio/activity';
import { applyImportChunk, finishImport, importReport, knownCatalogue, loadImport, markImport, type ImportRow } from '../db/catalogue-import';
import type { Db } from '../db/connection';
import { checkImport, parseImport, recordsToApply, type ParsedImport } from '../domain/catalogue-import';
import type { ImportAppliedCounts, ImportRecord, ImportReport } from '../schemas/catalogue';

export interface ImportCheck {
  rows: number;
  valid: number;
  problems: number;
  refused: boolean;
}

interface Parsed {
  /** The stored import without its body, which is parsed once. */
  imported: ImportRow;
  parsed: ParsedImport;
  /** The records to apply, in order, once the check decided them. */
  toApply?: ImportRecord[];
}

/** Parsed imports this worker is working through, so each chunk does not read the file again. */
const CACHE_SIZE = 2;

export function createCatalogueImportActivities(db: Db) {
  const cache = new Map<number, Parsed>();

  async function parsedImport(importPk: number): Promise<Parsed> {
    const cached = cache.get(importPk);
    if (cached) return cached;
    const imported = await loadImport(db, importPk);
    const entry: Parsed = { imported: { ...imported, body: '' }, parsed: parseImport(imported.format, imported.body, imported.options.currency) };
    cache.set(importPk, entry);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as number);
    return entry;
  }

  return {
    /**
     * Reads the whole file and checks every row against the file and the catalogue, changing
     * nothing but the import's report: the rows to apply, and every problem with its row, column
     * and reason. Without skipInvalid, one problem refuses the import.
     */
    async checkCatalogueImport(input: { importPk: number }): Promise<ImportCheck> {
      const { imported, parsed } = await parsedImport(input.importPk);
      Context.current().heartbeat('parsed');
      const { known, locationNames } = await knownCatalogue(db, parsed.records);
      const checked = checkImport(parsed, known, imported.format === 'shopify-inventory' ? locationNames : new Map());
      const refused = checked.problems.length > 0 && !imported.options.skipInvalid;
      const report: ImportReport = {
        rows: parsed.rows,
        records: parsed.records.length,
        valid: checked.records.length,
        problems: checked.problems,
        skippedRows: parsed.skippedRows,
        ignoredColumns: parsed.ignoredColumns,
        excludedRows: checked.excludedRows,
        locationCodes: checked.locationCodes,
        refused,
      };
      await markImport(db, input.importPk, refused ? 'refused' : 'applying', report);
      return { rows: parsed.rows, valid: checked.records.length, problems: checked.problems.length, refused };
    },

    /** Applies records [from, to) of the checked import in one transaction (idempotent per chunk; see db/catalogue-import.ts). */
    async applyCatalogueImportChunk(input: { importPk: number; chunkNo: number; from: number; to: number }): Promise<ImportAppliedCounts> {
      const entry = await parsedImport(input.importPk);
      if (!entry.toApply) {
        const report = await importReport(db, input.importPk);
        if (!report) throw new Error(`catalogue import ${input.importPk} has not been checked`);
        entry.toApply = recordsToApply(entry.parsed, report.excludedRows, report.locationCodes);
      }
      Context.current().heartbeat({ chunkNo: input.chunkNo });
      const applied = await applyImportChunk(db, entry.imported, input.chunkNo, entry.toApply.slice(input.from, input.to), `import:${entry.imported.importId}`);
      return { ...applied, refused: applied.refused.length };
    },

    /** Records how the import ended, with what was applied; the refused opening balances join the report's problems. */
    async finishCatalogueImport(input: { importPk: number; applied: ImportAppliedCounts }): Promise<void> {
      await finishImport(db, input.importPk, input.applied);
      cache.delete(input.importPk);
    },
  };
}
