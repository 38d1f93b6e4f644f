// The REST API: submit, status, result, history, cancel, live progress.
// Reads come from the informer's cache, never a GET per request; writes go
// to the API server. No state of its own, so replicas run side by side.
import { isUtf8 } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Client as MinioClient } from 'minio';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { hostList } from '../crds/host-list.ts';
import {
  group,
  labels,
  maxCanonicalUrlLength,
  plural,
  type VideoDownload,
  version,
} from '../crds/video-download.ts';
import type { Informer } from '../lib/kube/informer.ts';
import { allowedMethods } from './allowed-methods.ts';
import { type ApiKeyStore, bearerHash, type Caller } from './api-keys.ts';
import { apiServerRefusal } from './api-server-refusal.ts';
import type { ApiConfig } from './config.ts';
import type { DownloadHub } from './download-hub.ts';
import type { LiveConnections } from './live-limits.ts';
import { openApiDocument } from './openapi.ts';
import { ProblemError, problemBody, problems } from './problem.ts';
import type { Quota } from './quota.ts';
import { RateLimiter } from './rate-limit.ts';
import { readinessOf } from './readiness.ts';
import { requestDigest, requestDigestAnnotation } from './request-digest.ts';
import { resultRefusal } from './result-access.ts';
import {
  downloadRequest,
  IdempotencyKey,
  JobId,
  kubectlOnlyRefusal,
  ListQuery,
  type State,
} from './schemas.ts';
import { isFinished, stateOf, statusView } from './status-view.ts';
import { issueTicket, streamCaller, type TicketResponse } from './tickets.ts';
import { type UrlPolicy, urlRefusal } from './url-policy.ts';

export interface ApiDependencies {
  config: ApiConfig;
  kubeConfig: k8s.KubeConfig;
  downloads: Informer<VideoDownload>;
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
  storage: MinioClient | undefined;
  /** Signs result URLs; the storage client when clients reach storage at the same address. */
  presigner?: MinioClient;
  logger: Logger;
  resolve?: UrlPolicy['resolve'];
}

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

export const anonymous: Caller = { user: 'anonymous', role: 'admin' };

function callerOf(req: Request): Caller {
  return req.caller as Caller;
}

export function visibleTo(download: VideoDownload, caller: Caller): boolean {
  return caller.role === 'admin' || download.metadata.labels?.[labels.owner] === caller.user;
}

const eventsPath = /^\/status\/[^/]+\/events$/;

export function createApp(deps: ApiDependencies) {
  const { config, downloads, keys, logger } = deps;
  const objects = deps.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const limiter = new RateLimiter(config.submitPerMinute, config.submitBurst);
  const policy: UrlPolicy = {
    allowed: new Set(hostList(config.egressAllow)),
    // The URL as written is bounded by the request schema; this bounds its canonical form.
    maxLength: maxCanonicalUrlLength,
    allowHosts: hostList(config.allowHosts),
    denyHosts: hostList(config.denyHosts),
    resolve: deps.resolve,
  };
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestSchema = downloadRequest(config.maxUrlLength);
  const requests = new Histogram({
    name: 'vdl_api_request_duration_seconds',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  const submissions = new Counter({
    name: 'vdl_api_submissions_total',
    help: 'Download submissions by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const base = (req: Request) => `${req.protocol}://${req.get('host')}`;
  const find = (name: string, caller: Caller): VideoDownload => {
    if (!JobId.safeParse(name).success) throw problems.notFound(`job ${JSON.stringify(name).slice(0, 80)}`);
    const download = downloads.get(`${config.namespace}/${name}`);
    // Someone else's download is "not found", so ids do not leak across users.
    if (!download || !visibleTo(download, caller)) throw problems.notFound(`job ${name}`);
    return download;
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req, res, next) => {
    const stop = requests.startTimer();
    res.on('finish', () =>
      stop({ route: req.route?.path ?? 'other', method: req.method, status: res.statusCode }),
    );
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const readiness = readinessOf(deps.ready(), downloads.health);
    res.status(readiness.code).json(readiness.body);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  // The web page: static files of our own, nothing from elsewhere.
  const webHeaders = (res: Response) =>
    res.set(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    );
  app.get('/', (_req, res) => {
    webHeaders(res).sendFile(fileURLToPath(new URL('./web/index.html', import.meta.url)));
  });
  app.use(
    '/web',
    (_req, res, next) => {
      webHeaders(res);
      next();
    },
    express.static(fileURLToPath(new URL('./web/', import.meta.url)), { index: false, maxAge: '1h' }),
  );

  // Everything below needs a caller.
  app.use((req, res, next) => {
    if (config.noAuth) req.caller = anonymous;
    else {
      // A ticket (POST /tickets) opens event streams only: browsers' EventSource cannot send a header.
      const ticket =
        req.method === 'GET' && eventsPath.test(req.path) && typeof req.query.ticket === 'string'
          ? req.query.ticket
          : undefined;
      const credential = streamCaller(keys, deps.ticketKey, req.get('authorization'), ticket, Date.now());
      if (!credential) return next(problems.unauthorized());
      req.caller = credential.caller;
      // Revoking the key ends the request, above all a long-lived event stream.
      res.on(
        'close',
        keys.holdWhile(credential.check, credential.caller, () => res.destroy()),
      );
    }
    next();
  });

  app.post('/tickets', (req, res) => {
    const expiresAt = Math.ceil((Date.now() + config.ticketSeconds * 1000) / 1000) * 1000;
    const body: TicketResponse = {
      ticket: issueTicket(deps.ticketKey, bearerHash(req.get('authorization')) ?? '', expiresAt),
      expires_at: new Date(expiresAt).toISOString(),
    };
    res.set('cache-control', 'no-store').json(body);
  });

  // Every submission takes a token before anything else, so refused ones (4xx) count too.
  const rateLimitSubmissions = (req: Request, res: Response, next: NextFunction) => {
    const rate = limiter.take(callerOf(req).user);
    res.set('RateLimit-Policy', `${rate.limit};w=${Math.round((rate.limit / config.submitPerMinute) * 60)}`);
    res.set('RateLimit', `limit=${rate.limit}, remaining=${rate.remaining}, reset=${rate.resetSeconds}`);
    if (rate.allowed) return next();
    submissions.inc({ result: 'rate-limited' });
    next(
      problems.tooManyRequests(
        `more than ${config.submitPerMinute} submissions a minute (on this API replica)`,
        rate.resetSeconds,
      ),
    );
  };

  app.post(
    '/download',
    rateLimitSubmissions,
    (req, _res, next) => {
      if (!req.is('application/json')) return next(problems.unsupportedMediaType());
      next();
    },
    express.json({
      limit: config.bodyLimitBytes,
      strict: true,
      // The parser would quietly turn bytes that are not UTF-8 into U+FFFD and accept the result.
      verify: (_req, _res, body, encoding) => {
        if (encoding === 'utf-8' && !isUtf8(body)) throw problems.badRequest('the body is not valid UTF-8');
      },
    }),
    async (req, res) => {
      const caller = callerOf(req);
      const kubectlOnly = kubectlOnlyRefusal(req.body);
      if (kubectlOnly) throw problems.unprocessable(kubectlOnly);
      // The spec as parsed carries the URL's canonical form: what is checked below is what is stored.
      const parsed = requestSchema.safeParse(req.body);
      if (!parsed.success) throw problems.unprocessable(z.prettifyError(parsed.error));
      const refusal = await urlRefusal(parsed.data.url, policy);
      if (refusal) {
        submissions.inc({ result: 'refused' });
        throw problems.unprocessable(refusal);
      }
      const idempotencyKey = req.get('idempotency-key');
      if (idempotencyKey !== undefined && !IdempotencyKey.safeParse(idempotencyKey).success) {
        throw problems.badRequest('Idempotency-Key must be 1 to 255 visible ASCII characters');
      }
      // The same key from the same user names the same resource: replicas agree without shared state.
      const name = idempotencyKey
        ? `dl-${createHash('sha256').update(`${caller.user}\0${idempotencyKey}`).digest('hex').slice(0, 20)}`
        : `dl-${randomBytes(10).toString('hex')}`;
      const digest = requestDigest(parsed.data);
      // A key names one request (the IETF Idempotency-Key draft): the same key with another body is refused.
      const sameRequest = (download: VideoDownload) => {
        if (download.metadata.annotations?.[requestDigestAnnotation] === digest) return download;
        throw problems.unprocessable(
          'Idempotency-Key was already used with a different request body; use a new key for a new request',
        );
      };
      const respond = (download: VideoDownload) => {
        res
          .status(202)
          .location(`/status/${name}`)
          .json({
            job_id: name,
            state: stateOf(download),
            status_url: `${base(req)}/status/${name}`,
            result_url: `${base(req)}/result/${name}`,
          });
      };
      if (idempotencyKey) {
        const existing = downloads.get(`${config.namespace}/${name}`);
        if (existing && visibleTo(existing, caller)) return respond(sameRequest(existing));
      }
      // The slot is reserved before the create, through the API server, so racing replicas cannot overbook.
      const quota = await deps.quota.reserve(caller.user, name);
      if (!quota.allowed) {
        submissions.inc({ result: 'quota' });
        throw problems.tooManyRequests(
          `you have ${quota.active} unfinished downloads; the limit is ${config.maxUnfinishedPerUser}`,
          30,
        );
      }
      try {
        const created = (await objects.createNamespacedCustomObject({
          group,
          version,
          plural,
          namespace: config.namespace,
          body: {
            apiVersion: `${group}/${version}`,
            kind: 'VideoDownload',
            metadata: {
              name,
              labels: { [labels.owner]: caller.user },
              annotations: { [requestDigestAnnotation]: digest },
            },
            spec: parsed.data,
          },
        })) as VideoDownload;
        submissions.inc({ result: 'accepted' });
        logger.info({ download: name, user: caller.user }, 'accepted');
        respond(created);
      } catch (error) {
        const code = (error as { code?: number }).code;
        // A 4xx says nothing was created (409 is the same job made by a twin request, which keeps the
        // slot); after a 5xx or a broken connection the create may have happened, so the slot stays
        // until the download shows up or its reservation's grace ends.
        if (typeof code === 'number' && code >= 400 && code < 500 && code !== 409)
          await deps.quota.release(caller.user, name).catch((releaseError: unknown) => {
            logger.warn({ err: String(releaseError), download: name }, 'quota slot not given back');
          });
        if (code === 409 && idempotencyKey) {
          const existing = (await objects.getNamespacedCustomObject({
            group,
            version,
            plural,
            namespace: config.namespace,
            name,
          })) as VideoDownload;
          if (visibleTo(existing, caller)) return respond(sameRequest(existing));
        }
        // Never the API server's own words: its Status quotes values and schema internals.
        if (code === 422) throw problems.unprocessable(apiServerRefusal((error as { body?: unknown }).body));
        throw error;
      }
    },
  );

  app.get('/status/:id', (req, res) => {
    res.json(statusView(find(String(req.params.id), callerOf(req))));
  });

  app.get('/result/:id', async (req, res) => {
    const download = find(String(req.params.id), callerOf(req));
    const state = stateOf(download);
    if (state === 'FAILED')
      throw problems.conflict(`job ${download.metadata.name} failed: ${download.status?.message ?? ''}`);
    const result = download.status?.result;
    if (state !== 'DONE' || !result)
      throw problems.conflict(`job ${download.metadata.name} is ${state}, not DONE`);
    // Signed only inside the download's own bucket and prefix, whatever its status says.
    if (resultRefusal(download, config.bucket) !== undefined)
      throw problems.conflict(
        `the recorded result of job ${download.metadata.name} lies outside its own storage; no link is signed`,
      );
    if (!deps.storage) throw problems.unavailable('object storage is not configured');
    try {
      await deps.storage.statObject(result.bucket, result.key);
    } catch {
      throw problems.gone(`the file of job ${download.metadata.name} is no longer stored`);
    }
    const filename = result.filename ?? result.key.split('/').pop() ?? 'download';
    const url = await (deps.presigner ?? deps.storage).presignedGetObject(
      result.bucket,
      result.key,
      config.presignSeconds,
      {
        'response-content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`,
        'response-content-type': result.contentType,
      },
    );
    if (req.query.redirect === 'true') return res.redirect(302, url);
    res.json({
      url,
      expires_at: new Date(Date.now() + config.presignSeconds * 1000).toISOString(),
      filename,
      size: result.size,
      sha256: result.sha256,
      content_type: result.contentType,
      title: result.title ?? null,
      duration: result.durationSeconds ?? null,
    });
  });

  app.get('/downloads', (req, res) => {
    const caller = callerOf(req);
    const query = ListQuery.safeParse(req.query);
    if (!query.success) throw problems.badRequest(z.prettifyError(query.error));
    const { state, limit, cursor } = query.data;
    const mine = caller.role === 'admin' ? downloads.list() : downloads.byIndex(caller.user);
    // Newest first; the cursor is the last item's (creationTimestamp, name), so pages stay stable as new ones arrive.
    const order = (d: VideoDownload) => `${d.metadata.creationTimestamp ?? ''}|${d.metadata.name}`;
    let items = mine
      .filter((d) => !state || stateOf(d) === (state as State))
      .sort((a, b) => order(b).localeCompare(order(a)));
    if (cursor) {
      const after = Buffer.from(cursor, 'base64url').toString('utf8');
      items = items.filter((d) => order(d) < after);
    }
    const page = items.slice(0, limit);
    const last = page.at(-1);
    res.json({
      items: page.map(statusView),
      next_cursor: items.length > limit && last ? Buffer.from(order(last)).toString('base64url') : null,
    });
  });

  app.delete('/downloads/:id', async (req, res) => {
    const download = find(String(req.params.id), callerOf(req));
    const name = download.metadata.name as string;
    await objects
      .deleteNamespacedCustomObject({
        group,
        version,
        plural,
        namespace: config.namespace,
        name,
        propagationPolicy: 'Background',
      })
      .catch((error: unknown) => {
        if ((error as { code?: number }).code !== 404) throw error;
      });
    res.status(202).json({ job_id: name, state: stateOf(download), deleted: true });
  });

  app.get('/status/:id/events', (req, res) => {
    const download = find(String(req.params.id), callerOf(req));
    const name = download.metadata.name as string;
    const release = deps.live.take(callerOf(req).user);
    if (!release)
      throw problems.tooManyRequests(
        `you have ${config.maxLiveConnectionsPerUser} live streams open on this API replica, the most allowed`,
        5,
      );
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

  // Upgrades never reach express (attachWebSocket takes them); a plain request here is a client error.
  app.get('/ws', () => {
    throw problems.upgradeRequired();
  });

  app.use((req, _res, next) => {
    const allow = allowedMethods(openApiDocument().paths as Parameters<typeof allowedMethods>[0], req.path);
    next(
      allow && !allow.includes(req.method) ? problems.methodNotAllowed(allow) : problems.notFound('route'),
    );
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    let problem: ProblemError;
    if (error instanceof ProblemError) problem = error;
    else if ((error as { type?: string }).type === 'entity.too.large')
      problem = problems.tooLarge(config.bodyLimitBytes);
    else if ((error as { type?: string }).type === 'entity.parse.failed')
      problem = problems.badRequest('the body is not valid JSON');
    else if (
      (error as { type?: string }).type === 'encoding.unsupported' ||
      (error as { type?: string }).type === 'charset.unsupported'
    )
      problem = problems.unsupportedMediaType();
    // A path id that does not even percent-decode is as unknown as any other id.
    else if (error instanceof URIError) problem = problems.notFound('job');
    // A body that cannot be read (a broken gzip stream, say) is the client's error.
    else if ((error as { status?: number }).status === 400 && (error as { expose?: boolean }).expose)
      problem = problems.badRequest(`the body could not be read: ${(error as Error).message}`);
    else {
      logger.error(
        { err: error instanceof Error ? error.message : String(error), path: req.path },
        'request failed',
      );
      problem = new ProblemError(500, 'Internal Server Error', 'the request failed; see the API logs');
    }
    if (res.headersSent) return res.end();
    res
      .status(problem.status)
      .set(problem.headers)
      .type('application/problem+json')
      .send(JSON.stringify(problemBody(problem, req.path)));
  });

  return app;
}
