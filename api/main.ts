// Wires the API from its configuration and serves until SIGTERM or SIGINT.
import '../lib/runtime/memory-settings.ts';
import { pino } from 'pino';
import { loadKubeConfig } from '../lib/kube/kube-config.ts';
import { onShutdown } from '../lib/runtime/shutdown.ts';
import { s3ClientFor } from '../lib/storage/object-store.ts';
import { loadApiConfig } from './config.ts';
import { startApi } from './server.ts';

const config = loadApiConfig();
const logger = pino({ level: config.logLevel, base: { component: 'vdl-api' } });
const s3Client = (endpoint: string) =>
  s3ClientFor({
    endpoint,
    accessKey: config.s3AccessKey,
    secretKey: config.s3SecretKey,
    region: config.s3Region,
  });
const storage = config.s3AccessKey ? s3Client(config.s3Endpoint) : undefined;
const presigner =
  config.s3AccessKey && config.s3PublicEndpoint ? s3Client(config.s3PublicEndpoint) : undefined;
if (!storage) logger.warn('VDL_API_S3_ACCESS_KEY unset: GET /result answers 503');

const api = await startApi({ config, kubeConfig: loadKubeConfig(), logger, storage, presigner });
logger.info({ url: api.url }, 'vdl API listening');

onShutdown(() => api.close());
