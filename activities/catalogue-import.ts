import { Context } from '@temporalio/activity';
import { applyImportChunk, finishImport, importIdentity, knownCatalogue, loadImport, markImport, stageImport, stagedChunk } from '../db/catalogue-import';
import type { Db } from '../db/connection';
import { checkImport, parseImport, recordsToApply } from '../domain/catalogue-import';
import type { ImportAppliedCounts, ImportRecord, ImportReport } from '../schemas/catalogue';

export interface ImportCheck {
  rows: number;
  valid: number;
  problems: number;
  refused: boolean;
}

export function createCatalogueImportActivities(db: Db) {
  const read = async (importPk: number) => {
    const { body, ...imported } = await loadImport(db, importPk);
    return { imported, parsed: parseImport(imported.format, body, imported.options.currency) };
  };

  /**
   * A chunk's records from the staging table. An import checked before records were staged (by a
   * worker of an earlier version) has none: its records are staged once from the file and what
   * its check decided, in the chunk size its workflow chose.
   */
  async function chunkRecords(input: { importPk: number; chunkNo: number; from: number; to: number }): Promise<ImportRecord[]> {
    const staged = await stagedChunk(db, input.importPk, input.chunkNo);
    if (staged) return staged;
    const { imported, parsed } = await read(input.importPk);
    if (!imported.report) throw new Error(`catalogue import ${input.importPk} has not been checked`);
    const chunkSize = input.chunkNo === 0 ? input.to - input.from : input.from / input.chunkNo;
    await stageImport(db, input.importPk, recordsToApply(parsed, imported.report.excludedRows, imported.report.locationCodes), chunkSize, imported.report);
    return (await stagedChunk(db, input.importPk, input.chunkNo)) ?? [];
  }

  return {
    /**
     * Reads the whole file and checks every row against the file and the catalogue, changing
     * nothing but the import's report (every problem with its row, column and reason) and, when
     * it is not refused, its staged records in chunks. Without skipInvalid, one problem refuses
     * the import.
     */
    async checkCatalogueImport(input: { importPk: number; chunkSize: number }): Promise<ImportCheck> {
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
      if (refused) await markImport(db, input.importPk, 'refused', report);
      else await stageImport(db, input.importPk, checked.records, input.chunkSize, report);
      return { rows: parsed.rows, valid: checked.records.length, problems: checked.problems.length, refused };
    },

    /** Applies records [from, to) of the checked import in one transaction (idempotent per chunk; see db/catalogue-import.ts). */
    async applyCatalogueImportChunk(input: { importPk: number; chunkNo: number; from: number; to: number }): Promise<ImportAppliedCounts> {
      const { importId } = await importIdentity(db, input.importPk);
      const records = await chunkRecords(input);
      Context.current().heartbeat({ chunkNo: input.chunkNo });
      const applied = await applyImportChunk(db, { importPk: input.importPk, importId }, input.chunkNo, records, `import:${importId}`);
      return { ...applied, refused: applied.refused.length };
    },

    /** Records how the import ended, with what was applied; the refused opening balances join the report's problems. */
    async finishCatalogueImport(input: { importPk: number; applied: ImportAppliedCounts }): Promise<void> {
      await finishImport(db, input.importPk, input.applied);
    },
  };
}
