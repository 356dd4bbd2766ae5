import { Context } from '@temporalio/activity';
import { applyImportChunk, finishImport, importBody, importIdentity, knownCatalogue, loadImport, markImport, stageImport, stagedChunk, type ImportRow } from '../db/catalogue-import';
import type { Db } from '../db/connection';
import {
  ApplyChunks,
  checkImport,
  countKinds,
  ImportReader,
  keyMaker,
  noFindings,
  recordsToApply,
  totalOf,
  type ApplyChunk,
  type ImportFindings,
  type KindCounts,
  type RecordKey,
} from '../domain/catalogue-import';
import type { ImportAppliedCounts, ImportRecord, ImportReport } from '../schemas/catalogue';

export interface ImportCheck {
  rows: number;
  valid: number;
  problems: number;
  refused: boolean;
}

/** What the check decided about a file's records, as its report keeps it. */
type Decision = Pick<ImportReport, 'excludedRows' | 'locationCodes'>;

export function createCatalogueImportActivities(db: Db) {
  /** The stored file's records, a piece of its text at a time: the file is read as a stream, never held whole. */
  async function* records(imported: ImportRow, findings?: ImportFindings): AsyncGenerator<ImportRecord[]> {
    const reader = new ImportReader(imported.format, imported.options.currency, findings);
    for await (const piece of importBody(db, imported.importPk)) yield reader.write(piece);
    yield reader.end();
  }

  async function* toApply(imported: ImportRow, decided: Decision): AsyncGenerator<ImportRecord[]> {
    const excluded = new Set(decided.excludedRows);
    for await (const batch of records(imported)) yield [...recordsToApply(batch, excluded, decided.locationCodes)];
  }

  /** The file read again, the records the check let through placed in chunks of `chunkSize` in the order they are applied. */
  async function* chunks(imported: ImportRow, decided: Decision, counts: KindCounts, chunkSize: number): AsyncGenerator<ApplyChunk> {
    const placed = new ApplyChunks(counts, chunkSize);
    for await (const batch of toApply(imported, decided)) yield* placed.place(batch);
    placed.finish();
  }

  /**
   * Reads the file for what the check needs of each record (their keys, not the records), then
   * checks the keys against each other and the catalogue. The keys are let go when this returns.
   */
  async function check(imported: ImportRow): Promise<{ report: ImportReport; toApply: KindCounts }> {
    const findings = noFindings();
    const keyOf = keyMaker();
    const keys: RecordKey[] = [];
    for await (const batch of records(imported, findings)) for (const record of batch) keys.push(keyOf(record));
    Context.current().heartbeat('read');
    const { known, locationNames } = await knownCatalogue(db, keys);
    const checked = checkImport({ records: keys, problems: findings.problems }, known, imported.format === 'shopify-inventory' ? locationNames : new Map());
    const refused = checked.problems.length > 0 && !imported.options.skipInvalid;
    const report: ImportReport = {
      rows: findings.rows,
      records: keys.length,
      valid: totalOf(checked.toApply),
      problems: checked.problems,
      skippedRows: findings.skippedRows,
      ignoredColumns: findings.ignoredColumns,
      excludedRows: checked.excludedRows,
      locationCodes: checked.locationCodes,
      refused,
    };
    return { report, toApply: checked.toApply };
  }

  /**
   * A chunk's records from the staging table. An import checked before records were staged (by a
   * worker of an earlier version) has none: its records are staged once from the file and what
   * its check decided, in the chunk size its workflow chose.
   */
  async function chunkRecords(input: { importPk: number; chunkNo: number; from: number; to: number }): Promise<ImportRecord[]> {
    const staged = await stagedChunk(db, input.importPk, input.chunkNo);
    if (staged) return staged;
    const imported = await loadImport(db, input.importPk);
    const { report } = imported;
    if (!report) throw new Error(`catalogue import ${input.importPk} has not been checked`);
    const chunkSize = input.chunkNo === 0 ? input.to - input.from : input.from / input.chunkNo;
    const counts = countKinds([]);
    for await (const batch of toApply(imported, report)) countKinds(batch, counts);
    await stageImport(db, input.importPk, chunks(imported, report, counts, chunkSize), report);
    return (await stagedChunk(db, input.importPk, input.chunkNo)) ?? [];
  }

  return {
    /**
     * Reads the whole file and checks every row against the file and the catalogue, changing
     * nothing but the import's report (every problem with its row, column and reason) and, when
     * it is not refused, its staged records in chunks. Without skipInvalid, one problem refuses
     * the import. The file is read twice, as a stream: its records are never all held at once.
     */
    async checkCatalogueImport(input: { importPk: number; chunkSize: number }): Promise<ImportCheck> {
      const imported = await loadImport(db, input.importPk);
      const { report, toApply: counts } = await check(imported);
      Context.current().heartbeat('checked');
      if (report.refused) await markImport(db, input.importPk, 'refused', report);
      else await stageImport(db, input.importPk, chunks(imported, report, counts, input.chunkSize), report);
      return { rows: report.rows, valid: report.valid, problems: report.problems.length, refused: report.refused };
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
