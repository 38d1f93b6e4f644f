// GET /status/{id}/events: the download's status as server-sent events, one
// event per change, until it finishes or is deleted. Counted against the
// caller's live streams, like the WebSocket.
import { Router } from 'express';
import type { VideoDownload } from '../../crds/video-download.ts';
import { callerOf, findVisible } from '../callers.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { isFinished, statusView } from '../status-view.ts';
import { tooManyLiveStreams } from './limits.ts';

export function eventRoutes(deps: Pick<ApiDependencies, 'config' | 'downloads' | 'hub' | 'live'>): Router {
  const { config } = deps;
  return Router().get('/status/:id/events', (req, res) => {
    const caller = callerOf(req);
    const download = findVisible(deps.downloads, config.namespace, String(req.params.id), caller);
    const name = download.metadata.name as string;
    const release = deps.live.take(caller.user);
    if (!release) throw tooManyLiveStreams(config.maxLiveConnectionsPerUser);
    res.on('close', release);
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    // Every connection starts with the current status, so a client that
    // reconnects cannot miss the terminal state; only a client whose
    // Last-Event-ID is already the current, unfinished status is spared it.
    const send = (current: VideoDownload) => {
      res.write(
        `id: ${current.metadata.resourceVersion}\nevent: status\ndata: ${JSON.stringify(statusView(current))}\n\n`,
      );
      if (isFinished(current)) res.end();
    };
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const unsubscribe = deps.hub.subscribe(name, (current, deleted) => {
      if (deleted) {
        res.write(`event: deleted\ndata: ${JSON.stringify({ job_id: name })}\n\n`);
        res.end();
      } else send(current);
    });
    res.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
    // How long EventSource waits before reconnecting (its default is 3 s).
    res.write('retry: 1000\n\n');
    if (req.get('last-event-id') !== download.metadata.resourceVersion || isFinished(download))
      send(download);
  });
}
