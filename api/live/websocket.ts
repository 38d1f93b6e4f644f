// The WebSocket at /ws: {"subscribe": ["id", ...]} → a status message per
// change of each id followed, a deleted message when one is deleted; closes
// once nothing followed is unfinished. Bounded per user and per socket
// (api/live/limits.ts), since every id followed is a listener on the hub.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Router } from 'express';
import { WebSocket, WebSocketServer } from 'ws';
import type { VideoDownload } from '../../crds/video-download.ts';
import { anonymous, visibleTo } from '../callers.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { type ProblemError, problemBody, problems } from '../problem.ts';
import { RateLimiter } from '../rate-limit.ts';
import { isFinished, statusView } from '../status-view.ts';
import { streamCaller } from '../tickets.ts';
import { planSubscribe, tooManyLiveStreams } from './limits.ts';

/** Close code for a socket that sent subscribe messages faster than allowed (RFC 6455: policy violation). */
export const closeTooManySubscribes = 1008;

function refuseUpgrade(socket: Duplex, problem: ProblemError): void {
  const body = JSON.stringify(problemBody(problem, '/ws'));
  const headers = Object.entries(problem.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(
    `HTTP/1.1 ${problem.status} ${problem.title}\r\n${headers.join('')}Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function attachWebSocket(
  server: Server,
  deps: Pick<ApiDependencies, 'config' | 'downloads' | 'hub' | 'keys' | 'ticketKey' | 'live'>,
): WebSocketServer {
  const { config } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  // Per user, over all their sockets: a second socket does not double the rate.
  const subscribes = new RateLimiter(config.subscribePerMinute, config.subscribeBurst);
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') return socket.destroy();
    const credential = config.noAuth
      ? { caller: anonymous, check: () => anonymous }
      : streamCaller(
          deps.keys,
          deps.ticketKey,
          req.headers.authorization,
          url.searchParams.get('ticket') ?? undefined,
          Date.now(),
        );
    if (!credential) return refuseUpgrade(socket, problems.unauthorized());
    const { caller } = credential;
    const release = deps.live.take(caller.user);
    if (!release) return refuseUpgrade(socket, tooManyLiveStreams(config.maxLiveConnectionsPerUser));
    // The socket's close, not the WebSocket's: it also comes when the upgrade fails half-way.
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!config.noAuth)
        ws.on(
          'close',
          deps.keys.holdWhile(credential.check, caller, () => ws.terminate()),
        );
      // Each unfinished id followed, with the listener to remove: one per socket per id.
      const following = new Map<string, () => void>();
      const send = (message: object) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
      };
      const letGo = (id: string) => {
        following.get(id)?.();
        following.delete(id);
        if (following.size === 0) ws.close(1000, 'all finished');
      };
      const show = (download: VideoDownload) => {
        send({ type: 'status', ...statusView(download) });
        if (isFinished(download)) letGo(download.metadata.name as string);
      };
      const current = (id: string) => deps.downloads.get(`${config.namespace}/${id}`);
      ws.on('message', (data) => {
        const rate = subscribes.take(caller.user);
        if (!rate.allowed) {
          send({
            type: 'error',
            detail: `more than ${config.subscribePerMinute} subscribe messages a minute; closing`,
          });
          ws.close(closeTooManySubscribes, 'too many subscribe messages');
          return;
        }
        const plan = planSubscribe(String(data), new Set(following.keys()), config.maxIdsPerSocket, (id) => {
          const download = current(id);
          return download !== undefined && visibleTo(download, caller);
        });
        if (plan.kind !== 'ok') return send({ type: 'error', detail: plan.detail });
        for (const id of plan.unknown) send({ type: 'error', job_id: id, detail: 'not found' });
        for (const id of plan.added) {
          following.set(
            id,
            deps.hub.subscribe(id, (download, deleted) => {
              if (!deleted) return show(download);
              send({ type: 'deleted', job_id: id });
              letGo(id);
            }),
          );
        }
        // The current state of each id named: a resubscribe after a reconnect is a full resync.
        for (const id of plan.named) {
          const download = current(id);
          if (download) show(download);
        }
      });
      ws.on('close', () => {
        for (const unsubscribe of following.values()) unsubscribe();
        following.clear();
      });
    });
  });
  return wss;
}

/** GET /ws without an upgrade: upgrades never reach express (attachWebSocket takes them), so it is a client error. */
export function webSocketRoutes(): Router {
  return Router().get('/ws', () => {
    throw problems.upgradeRequired();
  });
}
