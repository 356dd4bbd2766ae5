import type { AllocationRules } from '../schemas/orders';

/** What an order asks for of one SKU: the sum of its lines of that SKU (1-based line numbers). */
export interface Want {
  sku: string;
  quantity: number;
  lineNos: number[];
}

/** What a location has available of a SKU when the order is allocated. */
export interface Stock {
  sku: string;
  location: string;
  available: number;
  /** Backorderable: the item may be reserved beyond what is available. */
  allowNegative: boolean;
}

export interface Allocated extends Want {
  location: string;
}

export type Allocation = { parts: Allocated[] } | { shortfall: string };

/**
 * Lines of one SKU become one want of their sum, in the order the SKUs first appear: checked
 * against availability separately, two lines of the last unit would each see it free.
 */
export function mergeLines(lines: readonly { sku: string; quantity: number }[]): Want[] {
  const wants = new Map<string, Want>();
  lines.forEach((line, i) => {
    const want = wants.get(line.sku) ?? { sku: line.sku, quantity: 0, lineNos: [] };
    want.quantity += line.quantity;
    want.lineNos.push(i + 1);
    wants.set(line.sku, want);
  });
  return [...wants.values()];
}

/**
 * Picks the locations of an order that names none, by the configured strategy. A want comes whole
 * from one location unless the channel allows split shipments; then it is taken from the
 * locations in strategy order until it is covered. The figures are a snapshot: the reservation
 * itself is still the conditional update, so a location emptied meanwhile refuses, never oversells.
 */
export function allocate(wants: readonly Want[], stock: readonly Stock[], rules: AllocationRules, split: boolean): Allocation {
  const parts: Allocated[] = [];
  for (const want of wants) {
    const places = inStrategyOrder(stock.filter((s) => s.sku === want.sku), rules);
    const candidates = places.filter((s) => s.available > 0);
    const taken = split ? takeAcross(want, candidates) : takeWhole(want, candidates);
    if ('parts' in taken) parts.push(...taken.parts);
    // A backorderable item short everywhere is reserved whole at the first location; the part beyond stock is backordered there.
    else if (places[0]?.allowNegative) parts.push({ ...want, location: places[0].location });
    else return taken;
  }
  return { parts };
}

function takeWhole(want: Want, candidates: Stock[]): Allocation {
  const whole = candidates.find((s) => s.available >= want.quantity);
  if (whole) return { parts: [{ ...want, location: whole.location }] };
  const most = Math.max(0, ...candidates.map((s) => s.available));
  return { shortfall: `out_of_stock: only ${most} of ${want.sku} available at any one location, ${want.quantity} requested (the channel ships each line from one location)` };
}

function takeAcross(want: Want, candidates: Stock[]): Allocation {
  const parts: Allocated[] = [];
  let remaining = want.quantity;
  for (const s of candidates) {
    if (remaining === 0) break;
    const quantity = Math.min(remaining, s.available);
    parts.push({ ...want, quantity, location: s.location });
    remaining -= quantity;
  }
  if (remaining === 0) return { parts };
  return { shortfall: `out_of_stock: only ${want.quantity - remaining} of ${want.sku} available across all locations, ${want.quantity} requested` };
}

function inStrategyOrder(candidates: Stock[], rules: AllocationRules): Stock[] {
  const rank = (location: string) => {
    const i = rules.locationPriority.indexOf(location);
    return i === -1 ? rules.locationPriority.length : i;
  };
  const byPriority = (a: Stock, b: Stock) => rank(a.location) - rank(b.location) || a.location.localeCompare(b.location);
  const order = rules.strategy === 'most_available' ? (a: Stock, b: Stock) => b.available - a.available || byPriority(a, b) : byPriority;
  return [...candidates].sort(order);
}
