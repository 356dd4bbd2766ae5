import { Context } from '@temporalio/activity';
import { applyImportChunk, finishImport, importReport, knownCatalogue, loadImport, markImport, type ImportRow } from '../db/catalogue-import';
import type { Db } from '../db/connection';
import { checkImport, parseImport, recordsToApply } from '../domain/catalogue-import';
import type { ImportAppliedCounts, ImportRecord, ImportReport } from '../schemas/catalogue';

export interface ImportCheck {
  rows: number;
  valid: number;
  problems: number;
  refused: boolean;
}

/** An import this worker is applying: the stored import without its body, and the records to apply in order. */
interface Applying {
  imported: ImportRow;
  toApply: ImportRecord[];
}

/** Imports this worker is working through, so each chunk does not read the file again. */
const CACHE_SIZE = 2;

export function createCatalogueImportActivities(db: Db) {
  const cache = new Map<number, Applying>();

  const remember = (importPk: number, entry: Applying) => {
    cache.set(importPk, entry);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as number);
    return entry;
  };

  const read = async (importPk: number) => {
    const { body, ...imported } = await loadImport(db, importPk);
    return { imported: { ...imported, body: '' }, parsed: parseImport(imported.format, body, imported.options.currency) };
  };

  /** The records to apply: from the check just made, or (on another worker, or after a restart) the file again and what its check decided. */
  async function applying(importPk: number): Promise<Applying> {
    const cached = cache.get(importPk);
    if (cached) return cached;
    const report = await importReport(db, importPk);
    if (!report) throw new Error(`catalogue import ${importPk} has not been checked`);
    const { imported, parsed } = await read(importPk);
    return remember(importPk, { imported, toApply: recordsToApply(parsed, report.excludedRows, report.locationCodes) });
  }

  return {
    /**
     * Reads the whole file and checks every row against the file and the catalogue, changing
     * nothing but the import's report: the rows to apply, and every problem with its row, column
     * and reason. Without skipInvalid, one problem refuses the import.
     */
    async checkCatalogueImport(input: { importPk: number }): Promise<ImportCheck> {
      const { imported, parsed } = await read(input.importPk);
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
      if (!refused) remember(input.importPk, { imported, toApply: checked.records });
      return { rows: parsed.rows, valid: checked.records.length, problems: checked.problems.length, refused };
    },

    /** Applies records [from, to) of the checked import in one transaction (idempotent per chunk; see db/catalogue-import.ts). */
    async applyCatalogueImportChunk(input: { importPk: number; chunkNo: number; from: number; to: number }): Promise<ImportAppliedCounts> {
      const entry = await applying(input.importPk);
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
