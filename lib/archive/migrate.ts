// The archive's schema, brought up to date by node-pg-migrate (versioned,
// forward-only SQL files in ./migrations, applied in order under its
// advisory lock, so two replicas starting at once apply each migration once).
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';

export const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));
export const migrationsTable = 'vdl_schema_migrations';

/** Applies every migration not yet applied; returns the names applied now. */
export async function migrateArchive(client: pg.ClientBase, log: (message: string) => void = () => {}) {
  const applied = await runner({
    dbClient: client,
    dir: migrationsDir,
    migrationsTable,
    direction: 'up',
    checkOrder: true,
    log,
    // Its default logs every statement; only what it did is worth a line.
    verbose: false,
  });
  return applied.map((migration) => migration.name);
}
