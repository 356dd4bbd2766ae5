import path from 'node:path';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Database } from './connection';

export const MIGRATIONS_FOLDER = path.join(__dirname, 'migrations');

const MIGRATION_LOCK = 7_261_001;

/**
 * Applies the generated migrations. Several workers may start at once against one database, so
 * a session advisory lock makes the first one migrate and the others find nothing left to do.
 */
export async function runMigrations({ db, sql }: Database): Promise<void> {
  const lockHolder = await sql.reserve();
  try {
    await lockHolder`SELECT pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await lockHolder`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => undefined);
    lockHolder.release();
  }
}
