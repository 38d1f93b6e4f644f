// The downloads resource: POST /download submits one, GET /downloads lists
// the caller's, DELETE /downloads/{id} cancels one. Reads come from the
// cache; writes go through the typed client to the API server.
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { hostList } from '../../crds/host-list.ts';
import { maxCanonicalUrlLength, type VideoDownload } from '../../crds/video-download.ts';
import { forgetOwner, listArchived } from '../../lib/archive/archive-store.ts';
import { callerOf, findVisible, readArchive } from '../callers.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { decodeCursor, pageOf } from '../download-list.ts';
import type { ApiMetrics } from '../metrics.ts';
import { problems } from '../problem.ts';
import { RateLimiter } from '../rate-limit.ts';
import { downloadRequest, ListQuery } from '../schemas.ts';
import { stateOf } from '../status-view.ts';
import { decideSubmission, readSubmission } from '../submission/decide.ts';
import { writeSubmission } from '../submission/write.ts';
import { type UrlPolicy, urlRefusal } from '../url-policy.ts';
import { submissionNotify } from '../webhooks.ts';

type Deps = Pick<
  ApiDependencies,
  'config' | 'downloads' | 'client' | 'quota' | 'logger' | 'resolve' | 'keys' | 'archive'
>;

export function downloadRoutes(deps: Deps, metrics: ApiMetrics): Router {
  const { config, downloads } = deps;
  const policy: UrlPolicy = {
    allowed: new Set(hostList(config.egressAllow)),
    // The URL as written is bounded by the request schema; this bounds its canonical form.
    maxLength: maxCanonicalUrlLength,
    allowHosts: hostList(config.allowHosts),
    denyHosts: hostList(config.denyHosts),
    resolve: deps.resolve,
  };
  // A webhook's receiver is reached by the operator, not a download pod: its own internal
  // exceptions, and none of the download host lists (which name video sites, not receivers).
  const webhookPolicy: UrlPolicy = {
    ...policy,
    allowed: new Set(hostList(config.webhookAllow)),
    allowHosts: [],
    denyHosts: [],
  };
  const requestSchema = downloadRequest(config.maxUrlLength);
  const limiter = new RateLimiter(config.submitPerMinute, config.submitBurst);
  const writer = {
    client: deps.client,
    quota: deps.quota,
    limit: config.maxUnfinishedPerUser,
    logger: deps.logger,
    count: (result: 'quota' | 'accepted') => metrics.submission(result),
  };
  const router = Router();

  // Every submission takes a token before anything else, so refused ones (4xx) count too.
  const rateLimitSubmissions = (req: Request, res: Response, next: NextFunction) => {
    const rate = limiter.take(callerOf(req).user);
    res.set('RateLimit-Policy', `${rate.limit};w=${Math.round((rate.limit / config.submitPerMinute) * 60)}`);
    res.set('RateLimit', `limit=${rate.limit}, remaining=${rate.remaining}, reset=${rate.resetSeconds}`);
    if (rate.allowed) return next();
    metrics.submission('rate-limited');
    next(
      problems.tooManyRequests(
        `more than ${config.submitPerMinute} submissions a minute (on this API replica)`,
        rate.resetSeconds,
      ),
    );
  };
  const jsonBody = [
    (req: Request, _res: Response, next: NextFunction) => {
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
  ];

  router.post('/download', rateLimitSubmissions, ...jsonBody, async (req, res) => {
    const caller = callerOf(req);
    const read = readSubmission(req.body, requestSchema);
    if ('refusal' in read) throw read.refusal;
    const refusal = await urlRefusal(read.spec.url, policy);
    if (refusal) {
      metrics.submission('refused');
      throw problems.unprocessable(refusal);
    }
    const notified = submissionNotify(read.spec.notify, deps.keys.webhookOf(caller.user));
    if ('refusal' in notified) throw notified.refusal;
    // The same address rules as the download's own URL, said of notify.url (the operator checks again when it sends).
    const notifyRefusal = notified.notify && (await urlRefusal(notified.notify.url, webhookPolicy));
    if (notifyRefusal) {
      metrics.submission('refused');
      throw problems.unprocessable(`notify.${notifyRefusal}`);
    }
    const spec = { ...read.spec, notify: notified.notify };
    const decision = decideSubmission({
      spec,
      caller,
      idempotencyKey: req.get('idempotency-key'),
      cached: (name) => downloads.get(`${config.namespace}/${name}`),
      randomId: randomBytes(10).toString('hex'),
    });
    if (decision.kind === 'refuse') throw decision.problem;
    const download =
      decision.kind === 'replay' ? decision.download : await writeSubmission(writer, caller, spec, decision);
    const base = `${req.protocol}://${req.get('host')}`;
    const name = decision.name;
    res
      .status(202)
      .location(`/status/${name}`)
      .json({
        job_id: name,
        state: stateOf(download),
        status_url: `${base}/status/${name}`,
        result_url: `${base}/result/${name}`,
      });
  });

  router.get('/downloads', async (req, res) => {
    const caller = callerOf(req);
    const query = ListQuery.safeParse(req.query);
    if (!query.success) throw problems.badRequest(z.prettifyError(query.error));
    const { cursor: text, ...filter } = query.data;
    const cursor = text === undefined ? undefined : decodeCursor(text);
    const mine = caller.role === 'admin' ? downloads.list() : downloads.byIndex(caller.user);
    // The archive's part of the page: its filter in SQL, after the cursor, none that is live.
    // Only finished downloads are archived: a filter on another state asks no database.
    const unfinishedState =
      filter.state !== undefined && filter.state !== 'DONE' && filter.state !== 'FAILED';
    const archived =
      deps.archive && !unfinishedState
        ? await readArchive(() =>
            listArchived(deps.archive as pg.Pool, {
              owner: caller.role === 'admin' ? undefined : caller.user,
              namespace: config.namespace,
              state: filter.state === 'DONE' || filter.state === 'FAILED' ? filter.state : undefined,
              from: filter.from,
              to: filter.to,
              text: filter.q,
              after: cursor && { createdAt: new Date(cursor.createdAt), name: cursor.name },
              excludeUids: mine.map((d) => d.metadata.uid as string),
              limit: filter.limit + 1,
            }),
          )
        : [];
    const fromArchive = archived.map((row) => row.record as VideoDownload);
    res.json(pageOf(mine, fromArchive, { ...filter, cursor }));
  });

  // Forget: the caller's archived history goes (files stay as their deletion policy left them;
  // downloads still in the cluster are not touched, DELETE /downloads/{id} cancels those).
  router.delete('/history', async (req, res) => {
    const caller = callerOf(req);
    const archive = deps.archive;
    if (!archive) return res.json({ forgotten: 0 });
    const live = (caller.role === 'admin' ? downloads.list() : downloads.byIndex(caller.user)).map(
      (d) => d.metadata.uid as string,
    );
    const forgotten = await readArchive(() => forgetOwner(archive, caller.user, live, config.namespace));
    deps.logger.info({ user: caller.user, forgotten }, 'forgot archived history');
    res.json({ forgotten });
  });

  router.delete('/downloads/:id', async (req, res) => {
    const download = findVisible(downloads, config.namespace, String(req.params.id), callerOf(req));
    const name = download.metadata.name as string;
    await deps.client.delete(name, { propagationPolicy: 'Background' });
    res.status(202).json({ job_id: name, state: stateOf(download), deleted: true });
  });
  return router;
}
