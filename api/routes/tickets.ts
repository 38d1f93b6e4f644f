// POST /tickets: a short-lived ticket that opens live streams as the caller,
// for browsers, whose EventSource and WebSocket cannot send the key.
import { Router } from 'express';
import { bearerHash } from '../api-keys.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { issueTicket, type TicketResponse } from '../tickets.ts';

export function ticketRoutes(deps: Pick<ApiDependencies, 'config' | 'ticketKey'>): Router {
  return Router().post('/tickets', (req, res) => {
    const expiresAt = Math.ceil((Date.now() + deps.config.ticketSeconds * 1000) / 1000) * 1000;
    const body: TicketResponse = {
      ticket: issueTicket(deps.ticketKey, bearerHash(req.get('authorization')) ?? '', expiresAt),
      expires_at: new Date(expiresAt).toISOString(),
    };
    res.set('cache-control', 'no-store').json(body);
  });
}
