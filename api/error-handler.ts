// The end of every request that no route answered or that failed: a 404 or
// 405 for unknown routes, and every error written as an RFC 9457 problem.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { allowedMethods } from './allowed-methods.ts';
import { openApiDocument } from './openapi.ts';
import { ProblemError, problemBody, problems } from './problem.ts';

/** 405 with Allow for a path the OpenAPI document knows under other methods, else 404. */
export function unknownRoute() {
  return (req: Request, _res: Response, next: NextFunction) => {
    const allow = allowedMethods(openApiDocument().paths as Parameters<typeof allowedMethods>[0], req.path);
    next(
      allow && !allow.includes(req.method) ? problems.methodNotAllowed(allow) : problems.notFound('route'),
    );
  };
}

/** The problem a thrown error is to the client; undefined for our own failure (a 500). */
export function problemOf(error: unknown, bodyLimitBytes: number): ProblemError | undefined {
  if (error instanceof ProblemError) return error;
  const type = (error as { type?: string }).type;
  if (type === 'entity.too.large') return problems.tooLarge(bodyLimitBytes);
  if (type === 'entity.parse.failed') return problems.badRequest('the body is not valid JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return problems.unsupportedMediaType();
  // A path id that does not even percent-decode is as unknown as any other id.
  if (error instanceof URIError) return problems.notFound('job');
  // A body that cannot be read (a broken gzip stream, say) is the client's error.
  if ((error as { status?: number }).status === 400 && (error as { expose?: boolean }).expose)
    return problems.badRequest(`the body could not be read: ${(error as Error).message}`);
  return undefined;
}

export function problemHandler(bodyLimitBytes: number, logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    let problem = problemOf(error, bodyLimitBytes);
    if (!problem) {
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
  };
}
