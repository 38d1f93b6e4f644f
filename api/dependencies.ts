// What the API's routes are built from: the caches, the clients and the
// per-process state that api/server.ts makes and api/app.ts hands out.

import type pg from 'pg';
import type { Logger } from 'pino';
import type { VideoDownload } from '../crds/video-download.ts';
import type { Informer } from '../lib/kube/informer.ts';
import type { VideoDownloads } from '../lib/kube/video-downloads.ts';
import type { ObjectReader } from '../lib/storage/object-reader.ts';
import type { ApiKeyStore } from './api-keys.ts';
import type { ApiConfig } from './config.ts';
import type { DownloadHub } from './live/hub.ts';
import type { LiveConnections } from './live/limits.ts';
import type { Quota } from './quota.ts';
import type { UrlPolicy } from './url-policy.ts';

export interface ApiDependencies {
  config: ApiConfig;
  /** Reads: the cache of the namespace's VideoDownloads, never a GET per request. */
  downloads: Informer<VideoDownload>;
  /** Writes: creates and deletes through the API server. */
  client: VideoDownloads;
  hub: DownloadHub;
  keys: ApiKeyStore;
  /** Signs and checks stream tickets (api/tickets.ts); the same on every replica. */
  ticketKey: Buffer;
  /** Live streams open per user, shared by SSE and the WebSocket. */
  live: LiveConnections;
  /** Reserves each submission's slot of the per-user cap on unfinished downloads. */
  quota: Quota;
  /** Ready when the caches (and, with auth, the key Secret) have synced. */
  ready: () => boolean;
  /** Checks results are stored and signs their links (for clients' address of storage). */
  storage: ObjectReader | undefined;
  /** The archive of finished downloads (read only); undefined: none, only live downloads are known. */
  archive?: pg.Pool | undefined;
  logger: Logger;
  resolve?: UrlPolicy['resolve'];
}
