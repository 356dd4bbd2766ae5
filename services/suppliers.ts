import { mapSupplierSkus as saveMappings, registerSupplier as saveSupplier, setSupplierArchived, type SupplierEntry, type SupplierStatus } from '../db/suppliers';
import type { SkuMapEntry } from '../schemas/suppliers';
import type { Services } from './context';

export function registerSupplier(s: Services, supplier: SupplierEntry): Promise<void> {
  return saveSupplier(s.db, supplier);
}

export async function mapSupplierSkus(s: Services, supplierId: string, entries: SkuMapEntry[]): Promise<{ supplierId: string; mapped: number }> {
  await saveMappings(s.db, supplierId, entries);
  return { supplierId, mapped: entries.length };
}

/** Retires a supplier registered by mistake or no longer used; its history stays. */
export function archiveSupplier(s: Services, supplierId: string, by: string, reason: string): Promise<SupplierStatus> {
  return setSupplierArchived(s.db, supplierId, true, by, reason);
}

export function restoreSupplier(s: Services, supplierId: string, by: string, reason: string): Promise<SupplierStatus> {
  return setSupplierArchived(s.db, supplierId, false, by, reason);
}
