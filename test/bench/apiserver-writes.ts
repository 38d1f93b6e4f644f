// Writes counted by kube-apiserver itself: apiserver_request_total from its
// /metrics (read with the admin client certificate), summed by verb and
// resource[/subresource], so a bench can take before/after deltas.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { ControlPlane } from '../cluster/control-plane.ts';
import { eventually } from '../support/eventually.ts';

const writeVerbs = new Set([
  'POST',
  'CREATE',
  'PUT',
  'UPDATE',
  'PATCH',
  'APPLY',
  'DELETE',
  'DELETECOLLECTION',
]);

/** "VERB resource[/subresource]" → requests, from Prometheus text; reads are left out. */
export function writesByResource(metrics: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const close = line.lastIndexOf('}');
    const labels = Object.fromEntries(
      [...line.slice(line.indexOf('{') + 1, close).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    const verb = (labels.verb ?? '').toUpperCase();
    if (!writeVerbs.has(verb)) continue;
    const key = `${verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    totals.set(key, (totals.get(key) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return totals;
}

export function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of after) {
    const d = value - (before.get(key) ?? 0);
    if (d > 0) out.set(key, d);
  }
  return out;
}

export function apiServerWrites(plane: ControlPlane): Promise<Map<string, number>> {
  const admin = plane.pki.clients['vdl-admin'] as { cert: string; key: string };
  return new Promise((resolve, reject) => {
    const req = request(
      `${plane.apiServerUrl}/metrics`,
      { ca: readFileSync(plane.pki.ca.cert), cert: readFileSync(admin.cert), key: readFileSync(admin.key) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(writesByResource(text))
            : reject(new Error(`kube-apiserver /metrics answered ${res.statusCode}: ${text.slice(0, 200)}`)),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * The writes once they stop changing between two reads intervalMs apart:
 * what follows a download (its Job's end, the operator's last touches) has
 * landed. Only the keys relevant says count, so the control plane's own
 * steady writes (lease renewals, node heartbeats) do not keep it waiting.
 */
export async function settledWrites(
  plane: ControlPlane,
  relevant: (key: string) => boolean = () => true,
  { timeoutMs = 60_000, intervalMs = 2_000 } = {},
): Promise<Map<string, number>> {
  let settled = await apiServerWrites(plane);
  await eventually(
    'kube-apiserver writes settled',
    async () => {
      const now = await apiServerWrites(plane);
      const same = [...delta(now, settled).keys()].every((key) => !relevant(key));
      settled = now;
      return same ? true : undefined;
    },
    { timeoutMs, intervalMs },
  );
  return settled;
}
