// Fans changes of VideoDownloads out to live streams (SSE, WebSocket):
// the informer publishes, each stream subscribes to the names it follows.
import { EventEmitter } from 'node:events';
import type { VideoDownload } from '../../crds/video-download.ts';

export class DownloadHub {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(download: VideoDownload, deleted = false): void {
    this.emitter.emit(download.metadata.name as string, download, deleted);
  }

  subscribe(name: string, listener: (download: VideoDownload, deleted: boolean) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
