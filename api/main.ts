// Wires the API from its configuration and serves until SIGTERM or SIGINT.
import '../lib/runtime/memory-settings.ts';
import { pino } from 'pino';
import { loadKubeConfig } from '../lib/kube/kube-config.ts';
import { onShutdown } from '../lib/runtime/shutdown.ts';
import { objectReaderFor } from '../lib/storage/object-reader.ts';
import { loadApiConfig } from './config.ts';
import { startApi } from './server.ts';

const config = loadApiConfig();
const logger = pino({ level: config.logLevel, base: { component: 'vdl-api' } });
const endpoint = (url: string) => ({
  endpoint: url,
  accessKey: config.s3AccessKey,
  secretKey: config.s3SecretKey,
  region: config.s3Region,
});
// Links are signed for the address clients reach storage at, when it is not the API's own.
const storage = config.s3AccessKey
  ? objectReaderFor(
      endpoint(config.s3Endpoint),
      config.s3PublicEndpoint ? endpoint(config.s3PublicEndpoint) : undefined,
    )
  : undefined;
if (!storage) logger.warn('VDL_API_S3_ACCESS_KEY unset: GET /result answers 503');

const api = await startApi({ config, kubeConfig: loadKubeConfig(), logger, storage });
logger.info({ url: api.url }, 'vdl API listening');

onShutdown(() => api.close());
