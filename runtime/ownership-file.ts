import { readFileSync } from 'node:fs';
import { formatIssues } from '../schemas/issues';
import { OwnershipConfig } from '../schemas/ownership';

/** Reads and validates an ownership file; errors name the file and the bad entry (e.g. `rules.2.owner`). */
export function readOwnershipFile(file: string): OwnershipConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = OwnershipConfig.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
