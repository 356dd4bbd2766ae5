import { allHandlersFinished, condition, continueAsNew, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ImportAppliedCounts } from '../schemas/catalogue';

const { checkCatalogueImport, finishCatalogueImport } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const { applyCatalogueImportChunk } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export interface CatalogueImportInput {
  importPk: number;
  importId: string;
  chunkSize: number;
  /** Carried across continue-as-new. */
  progress?: CatalogueImportProgress;
}

export type AppliedCounts = ImportAppliedCounts;

export interface CatalogueImportProgress {
  phase: 'checking' | 'applying' | 'applied' | 'refused';
  rows: number;
  /** Records that pass the check and are applied. */
  valid: number;
  problems: number;
  chunks: number;
  chunksDone: number;
  applied: AppliedCounts;
}

export const catalogueImportProgressQuery = defineQuery<CatalogueImportProgress>('progress');

/** Chunks per run before continuing as new, well below Temporal's history limits. */
const CHUNKS_PER_RUN = 100;

const noneApplied = (): AppliedCounts => ({ locations: 0, suppliers: 0, items: 0, variants: 0, prices: 0, supplierVariants: 0, balances: 0, refused: 0 });

/**
 * A shop brings its catalogue: the file, stored before this starts, is checked whole first (a bad
 * row refuses it all unless skipInvalid was asked for), then applied in chunks, each one
 * transaction that a retry never applies twice, with opening balances posted to the ledger.
 */
export async function catalogueImport(input: CatalogueImportInput): Promise<CatalogueImportProgress> {
  const progress: CatalogueImportProgress = input.progress ?? { phase: 'checking', rows: 0, valid: 0, problems: 0, chunks: 0, chunksDone: 0, applied: noneApplied() };
  setHandler(catalogueImportProgressQuery, () => progress);

  if (progress.phase === 'checking') {
    const check = await checkCatalogueImport({ importPk: input.importPk, chunkSize: input.chunkSize });
    Object.assign(progress, { rows: check.rows, valid: check.valid, problems: check.problems, chunks: Math.ceil(check.valid / input.chunkSize) });
    if (check.refused) {
      progress.phase = 'refused';
      return progress;
    }
    progress.phase = 'applying';
  }

  for (let run = 0; progress.chunksDone < progress.chunks; run++) {
    if (run >= CHUNKS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof catalogueImport>({ ...input, progress });
    }
    const from = progress.chunksDone * input.chunkSize;
    const applied = await applyCatalogueImportChunk({ importPk: input.importPk, chunkNo: progress.chunksDone, from, to: Math.min(from + input.chunkSize, progress.valid) });
    for (const key of Object.keys(progress.applied) as (keyof AppliedCounts)[]) progress.applied[key] += applied[key];
    progress.chunksDone += 1;
  }

  await finishCatalogueImport({ importPk: input.importPk, applied: progress.applied });
  progress.phase = 'applied';
  return progress;
}
