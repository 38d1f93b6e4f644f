// The one call the downloader makes to kube-apiserver: a merge patch of its
// own VideoDownload's status, with the pod's projected token, over one kept-
// alive TLS connection. Written on node:https rather than through
// @kubernetes/client-node, whose loading cost each download pod 1 to 1.5 s
// of start-up and about 90 MB of peak memory for this single request.
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { group, plural, version } from '../../crds/video-download.ts';

export interface StatusTarget {
  /** https://host:port of kube-apiserver. */
  apiServer: string;
  caFile: string;
  /** Projected and rotated by the kubelet: read again for each request. */
  tokenFile: string;
  namespace: string;
  name: string;
}

export class StatusPatchError extends Error {
  readonly statusCode: number | undefined;
  constructor(message: string, statusCode?: number) {
    super(message);
    this.statusCode = statusCode;
  }
}

/** Sends merge patches of the target's status subresource; each resolves once kube-apiserver answered 2xx. */
export function statusPatcher(target: StatusTarget, timeoutMs = 10_000): (status: object) => Promise<void> {
  const path = `/apis/${group}/${version}/namespaces/${encodeURIComponent(target.namespace)}/${plural}/${encodeURIComponent(target.name)}/status`;
  const url = new URL(path, target.apiServer);
  let agent: Promise<Agent> | undefined;
  const agentFor = () => {
    agent ??= readFile(target.caFile).then((ca) => new Agent({ ca, keepAlive: true, maxSockets: 1 }));
    return agent;
  };
  return async (status) => {
    const [token, tls] = await Promise.all([readFile(target.tokenFile, 'utf8'), agentFor()]);
    const body = JSON.stringify({ status });
    await new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'PATCH',
          agent: tls,
          timeout: timeoutMs,
          headers: {
            authorization: `Bearer ${token.trim()}`,
            'content-type': 'application/merge-patch+json',
            accept: 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) return resolve();
            const text = Buffer.concat(chunks).toString('utf8').slice(0, 500);
            reject(new StatusPatchError(`status patch answered ${code}: ${text}`, code));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new StatusPatchError(`status patch timed out after ${timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(body);
    });
  };
}
