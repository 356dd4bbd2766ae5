/** Units on order for a place, from one open purchase order line. */
export interface OpenSupply {
  poNumber: string;
  /** ISO-8601. */
  expectedAt: string;
  /** Ordered and not yet received. */
  outstanding: number;
}

/**
 * The purchase order whose arrival covers a place's shortfall: everything the place owes beyond
 * what it has (the backorders ahead of this one as well as this one's units), met by the open
 * lines earliest expected first. None when the open orders do not cover it.
 */
export function coveringOrder(shortfall: number, supply: readonly OpenSupply[]): OpenSupply | undefined {
  let covered = 0;
  for (const line of [...supply].sort((a, b) => a.expectedAt.localeCompare(b.expectedAt) || a.poNumber.localeCompare(b.poNumber))) {
    covered += line.outstanding;
    if (covered >= shortfall) return line;
  }
  return undefined;
}
