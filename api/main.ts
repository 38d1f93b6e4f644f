// Wires the API from its configuration and serves until SIGTERM or SIGINT.
import { Client } from 'minio';
import { pino } from 'pino';
import { loadKubeConfig } from '../operator/kube-config.ts';
import { loadApiConfig } from './config.ts';
import { startApi } from './server.ts';

const config = loadApiConfig();
const logger = pino({ level: config.logLevel, base: { component: 'vdl-api' } });
const s3 = new URL(config.s3Endpoint);
const storage = config.s3AccessKey
  ? new Client({
      endPoint: s3.hostname,
      port: s3.port ? Number(s3.port) : undefined,
      useSSL: s3.protocol === 'https:',
      accessKey: config.s3AccessKey,
      secretKey: config.s3SecretKey,
      region: config.s3Region,
    })
  : undefined;
if (!storage) logger.warn('VDL_API_S3_ACCESS_KEY unset: GET /result answers 503');

const api = await startApi({ config, kubeConfig: loadKubeConfig(), logger, storage });
logger.info({ url: api.url }, 'vdl API listening');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await api.close();
    process.exit(0);
  });
}
