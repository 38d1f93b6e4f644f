// Starts the API: the VideoDownload cache feeding the live streams, the API
// key store following its Secret, and the HTTP server with its WebSocket.
import type { Server } from 'node:http';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiVersion, kind, labels, plural, type VideoDownload } from '../crds/video-download.ts';
import { archivePool } from '../lib/archive/archive-store.ts';
import { Informer } from '../lib/kube/informer.ts';
import { VideoDownloads } from '../lib/kube/video-downloads.ts';
import type { ObjectReader } from '../lib/storage/object-reader.ts';
import { ApiKeyStore } from './api-keys.ts';
import { createApp } from './app.ts';
import type { ApiConfig } from './config.ts';
import { DownloadHub } from './live/hub.ts';
import { LiveConnections } from './live/limits.ts';
import { attachWebSocket } from './live/websocket.ts';
import { Quota } from './quota.ts';
import { ticketKeyFrom } from './tickets.ts';
import type { UrlPolicy } from './url-policy.ts';

export interface RunningApi {
  url: string;
  downloads: Informer<VideoDownload>;
  keys: ApiKeyStore;
  close(): Promise<void>;
}

export async function startApi(options: {
  config: ApiConfig;
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  storage: ObjectReader | undefined;
  resolve?: UrlPolicy['resolve'];
}): Promise<RunningApi> {
  const { config, kubeConfig, logger } = options;
  const hub = new DownloadHub();
  // Read only: the operator's archiver writes it (lib/archive/). A pg error carries its password: message and code only.
  const archive = config.archiveUrl
    ? archivePool(config.archiveUrl, {
        max: 10,
        onError: (message) => logger.warn({ err: message }, 'archive connection lost'),
      })
    : undefined;
  const downloads = new Informer<VideoDownload>({
    name: 'videodownloads',
    config: kubeConfig,
    apiVersion,
    kind,
    plural,
    namespace: config.namespace,
    logger,
    // The API's reads never need managed fields or the spec's defaults beyond what status shows.
    indexBy: (download) => download.metadata.labels?.[labels.owner],
    onChange: (type, download) => hub.publish(download, type === 'DELETED'),
  });
  const keys = new ApiKeyStore();
  const secrets = config.noAuth
    ? undefined
    : new Informer<k8s.V1Secret>({
        name: 'api-keys',
        config: kubeConfig,
        apiVersion: 'v1',
        kind: 'Secret',
        plural: 'secrets',
        namespace: config.namespace,
        fieldSelector: `metadata.name=${config.keysSecret}`,
        logger,
        onChange: (type, secret) => {
          const text =
            type === 'DELETED' ? '' : Buffer.from(secret.data?.keys ?? '', 'base64').toString('utf8');
          const errors = keys.replace(text);
          const webhooks =
            type === 'DELETED' ? '' : Buffer.from(secret.data?.webhooks ?? '', 'base64').toString('utf8');
          errors.push(...keys.replaceWebhooks(webhooks));
          logger.info({ secret: config.keysSecret, users: keys.size, errors }, 'API keys loaded');
        },
      });
  if (config.noAuth) {
    logger.warn(
      'AUTHENTICATION IS OFF (VDL_API_NO_AUTH=true): every caller is an admin. Local development only.',
    );
  }
  const tickets = ticketKeyFrom(config.ticketKey);
  if (!tickets.shared && !config.noAuth)
    logger.warn('VDL_API_TICKET_KEY unset: stream tickets open streams on this API process only');
  const live = new LiveConnections(config.maxLiveConnectionsPerUser);
  const quota = new Quota({
    core: kubeConfig.makeApiClient(k8s.CoreV1Api),
    namespace: config.namespace,
    limit: config.maxUnfinishedPerUser,
    downloadsOf: (user) => downloads.byIndex(user),
    download: (name) => downloads.get(`${config.namespace}/${name}`),
  });
  downloads.start();
  secrets?.start();
  await Promise.all([downloads.waitForSync(), secrets?.waitForSync()]);

  const app = createApp({
    config,
    downloads,
    client: new VideoDownloads(kubeConfig, config.namespace),
    hub,
    keys,
    ticketKey: tickets.key,
    live,
    quota,
    storage: options.storage,
    archive,
    logger,
    resolve: options.resolve,
    ready: () => downloads.health.synced && (secrets?.health.synced ?? true),
  });
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(config.port, config.host, (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  const wss = attachWebSocket(server, { config, downloads, hub, keys, ticketKey: tickets.key, live });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    url: `http://${config.host}:${port}`,
    downloads,
    keys,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      downloads.stop();
      secrets?.stop();
      await archive?.end();
    },
  };
}
