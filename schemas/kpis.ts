import { z } from 'zod';
import { LocationCode } from './common';
import { DurationSeconds } from './duration';
import { OwnerId } from './ownership';

/** `GET /v1/kpis` filters: how far back, and optionally one location and one owner. */
export const KpiQuery = z.object({
  window: DurationSeconds.default(30 * 86400).describe('how far back from now, e.g. 24h, 7d, 30d (at most 90d)'),
  location: LocationCode.optional().describe('a location code: only stock, counts, orders and exceptions there'),
  owner: OwnerId.optional().describe('an owner id: only exceptions assigned to or owned by them, orders whose state they own'),
});
export type KpiQuery = z.infer<typeof KpiQuery>;

const Percentiles = z.object({ count: z.number(), p50: z.number().nullable(), p95: z.number().nullable() });
/** A share: numerator over denominator, null when nothing was measured. */
const Share = z.object({ numerator: z.number(), denominator: z.number(), share: z.number().nullable() });

/** Units at risk of one SKU, for valuing at its price. */
export const UnitsAtRisk = z.object({ sku: z.string(), units: z.number() });
export type UnitsAtRisk = z.infer<typeof UnitsAtRisk>;

const RiskPart = z.object({
  units: z.number(),
  /** How many things (feed lines, SKU-locations, orders) are held. */
  things: z.number(),
  /** In money once prices exist; null until then. */
  value: z.number().nullable(),
  bySku: z.array(UnitsAtRisk),
});

export const Kpis = z.object({
  generatedAt: z.string(),
  window: z.object({ from: z.string(), to: z.string(), seconds: z.number() }),
  filters: z.object({ location: z.string().nullable(), owner: z.string().nullable() }),
  revenueAtRisk: z.object({
    units: z.number(),
    value: z.number().nullable(),
    feedHeld: RiskPart,
    countBlocked: RiskPart,
    ordersInExceptions: RiskPart,
    /** SKUs a channel shows a figure for that is older than the channel's window: the units it is off by. */
    channelStale: RiskPart,
  }),
  /** Each sales channel's push lag: how long its oldest unpublished change has waited, as of now. */
  channelSync: z.array(
    z.object({ channel: z.string(), owner: z.string(), lagSeconds: z.number().nullable(), pendingSkus: z.number(), staleSkus: z.number(), staleAfterSeconds: z.number() }),
  ),
  updateLatency: z.array(z.object({ flow: z.string(), unit: z.literal('ms') }).extend(Percentiles.shape)),
  failedUpdateRate: z.array(
    z.object({ source: z.string(), received: z.number(), refused: z.number(), rejected: z.number(), held: z.number(), rate: z.number().nullable() }),
  ),
  exceptionBacklog: z.object({
    total: z.number(),
    rows: z.array(
      z.object({
        owner: z.string(),
        type: z.string(),
        open: z.number(),
        acknowledged: z.number(),
        under1h: z.number(),
        under1d: z.number(),
        under7d: z.number(),
        over7d: z.number(),
        oldestSeconds: z.number(),
      }),
    ),
    /** The oldest open exceptions, each with its workflow for a link into the Temporal UI. */
    oldest: z.array(z.object({ owner: z.string(), type: z.string(), subject: z.string(), workflowId: z.string(), openedAt: z.string(), status: z.string() })),
  }),
  slaBreaches: z.object({ total: z.number(), byOwner: z.array(z.object({ owner: z.string(), breaches: z.number() })) }),
  timeToAcknowledge: Percentiles.extend({ unit: z.literal('s') }),
  timeToResolve: Percentiles.extend({ unit: z.literal('s') }),
  reconciliation: z.object({
    runs: z.array(z.object({ runId: z.number(), ranAt: z.string(), checked: z.number(), matched: z.number(), deltas: z.number(), byKind: z.record(z.string(), z.number()) })),
  }),
  stockAccuracy: Share,
  /** Stock accuracy of the SKUs of each ABC class (their current class; C until classes are computed). */
  stockAccuracyByClass: z.object({ A: Share, B: Share, C: Share }),
  shrinkage: z.object({ units: z.number(), value: z.number().nullable(), byReason: z.array(z.object({ reasonCode: z.string(), units: z.number(), value: z.number().nullable() })) }),
  stockouts: z.object({ events: z.number(), skuLocations: z.number(), daysOutOfStock: z.number() }),
  inventoryTurnover: z.object({
    unitsIssued: z.number(),
    openingUnits: z.number(),
    closingUnits: z.number(),
    /** Units issued over the average of opening and closing on hand, for the window. */
    unitTurns: z.number().nullable(),
    /** Units issued valued at the unit cost in force when each left; null until costs exist. */
    costOfGoodsIssued: z.number().nullable(),
    /** Stock at the window's start and end valued at cost (see docs/kpis.md); null until costs exist. */
    openingValue: z.number().nullable(),
    closingValue: z.number().nullable(),
    /** Cost of goods issued over average inventory value; null until costs exist. */
    valueTurns: z.number().nullable(),
  }),
  ordersNeedingPerson: Share,
  trend: z.object({
    days: z.array(z.string()),
    exceptionsOpened: z.array(z.number()),
    exceptionsResolved: z.array(z.number()),
    shrinkageUnits: z.array(z.number()),
    feedLinesReceived: z.array(z.number()),
    feedLinesFailed: z.array(z.number()),
    stockouts: z.array(z.number()),
    countsWithinTolerance: z.array(z.number().nullable()),
    adjustmentsByReason: z.record(z.string(), z.array(z.number())),
  }),
});
export type Kpis = z.infer<typeof Kpis>;
