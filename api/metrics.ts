// The API's Prometheus metrics: request durations by route and submissions
// by result, in a registry of its own (served at /metrics).
import type { NextFunction, Request, Response } from 'express';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export type SubmissionResult = 'accepted' | 'refused' | 'quota' | 'rate-limited';

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'route' | 'method' | 'status'>;
  private readonly submissions: Counter<'result'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Histogram({
      name: 'vdl_api_request_duration_seconds',
      help: 'HTTP requests by route, method and status.',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: [this.registry],
    });
    this.submissions = new Counter({
      name: 'vdl_api_submissions_total',
      help: 'Download submissions by result.',
      labelNames: ['result'] as const,
      registers: [this.registry],
    });
  }

  submission(result: SubmissionResult): void {
    this.submissions.inc({ result });
  }

  /** Middleware timing each request, labelled with the route it matched once it finishes. */
  timeRequests() {
    return (req: Request, res: Response, next: NextFunction) => {
      const stop = this.requests.startTimer();
      res.on('finish', () =>
        stop({ route: req.route?.path ?? 'other', method: req.method, status: res.statusCode }),
      );
      next();
    };
  }
}
