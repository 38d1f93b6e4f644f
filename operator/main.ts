// Wires the operator together from its configuration and runs it until
// SIGTERM or SIGINT, then shuts down gracefully.
import '../lib/runtime/memory-settings.ts';
import { pino } from 'pino';
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

const operator = new Operator({ config, kubeConfig, logger, objectStore });
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
  server.close();
});
