// The web page: static files of our own, nothing from elsewhere, open
// without a key (the page asks for one).

import { fileURLToPath } from 'node:url';
import express, { type Response, Router } from 'express';

const webHeaders = (res: Response) =>
  res.set(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  );

export function webRoutes(): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    webHeaders(res).sendFile(fileURLToPath(new URL('../web/index.html', import.meta.url)));
  });
  router.use(
    '/web',
    (_req, res, next) => {
      webHeaders(res);
      next();
    },
    express.static(fileURLToPath(new URL('../web/', import.meta.url)), { index: false, maxAge: '1h' }),
  );
  return router;
}
