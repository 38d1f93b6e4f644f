// Wires the operator together from its configuration and runs it until
// SIGTERM or SIGINT, then shuts down gracefully.
import '../lib/runtime/memory-settings.ts';
import type pg from 'pg';
import { pino } from 'pino';
import { postgresArchive } from '../lib/archive/archive.ts';
import { archivePool } from '../lib/archive/archive-store.ts';
import { migrateArchive } from '../lib/archive/migrate.ts';
import { loadKubeConfig } from '../lib/kube/kube-config.ts';
import { onShutdown } from '../lib/runtime/shutdown.ts';
import { s3ObjectStore } from '../lib/storage/object-store.ts';
import { loadOperatorConfig } from './config.ts';
import { startHealthServer } from './manager/health-server.ts';
import { Operator } from './operator.ts';

const config = loadOperatorConfig();
const logger = pino({
  level: config.logLevel,
  base: { component: 'vdl-operator', identity: config.identity },
});
const kubeConfig = loadKubeConfig();

const objectStore =
  config.s3AccessKey && config.s3SecretKey
    ? s3ObjectStore(config.s3Endpoint, config.s3AccessKey, config.s3SecretKey, config.s3Region)
    : undefined;
if (!objectStore)
  logger.warn(
    'VDL_S3_ACCESS_KEY/VDL_S3_SECRET_KEY unset: downloads cannot upload (their uploads are prepared here) and deleted downloads keep their files',
  );

// The archive: its schema migrated in the background, so a database that is down
// delays only archiving (rows wait, status says why), never the downloads.
const archivePoolOrNone = config.archive.url
  ? archivePool(config.archive.url, {
      onError: (message) => logger.warn({ err: message }, 'archive connection lost'),
    })
  : undefined;
if (archivePoolOrNone) void migrateInBackground(archivePoolOrNone);
else logger.info('VDL_ARCHIVE_URL unset: finished downloads are not archived');

async function migrateInBackground(pool: pg.Pool): Promise<void> {
  for (let delayMs = 1_000; ; delayMs = Math.min(delayMs * 2, 60_000)) {
    try {
      const client = await pool.connect();
      // A checked-out client's errors are its holder's to hear: unheard, a dropped connection would crash the operator.
      client.on('error', (error) => logger.warn({ err: error.message }, 'archive migration connection lost'));
      try {
        const applied = await migrateArchive(client);
        logger.info({ applied }, 'archive schema up to date');
        return;
      } finally {
        client.release();
      }
    } catch (error) {
      logger.warn({ err: (error as Error).message, retryInMs: delayMs }, 'could not migrate the archive');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

const operator = new Operator({
  config,
  kubeConfig,
  logger,
  objectStore,
  archive: archivePoolOrNone && postgresArchive(archivePoolOrNone),
});
const server = await startHealthServer(
  {
    ready: () => operator.ready(),
    details: () => ({ leading: operator.leading, informers: operator.informerHealth() }),
    registry: operator.metrics.registry,
  },
  config.metricsHost,
  config.metricsPort,
);
logger.info({ address: server.address() }, 'health and metrics listening');
await operator.start();

onShutdown(async (signal) => {
  logger.info({ signal }, 'shutting down');
  await operator.stop();
  await archivePoolOrNone?.end();
  server.close();
});
