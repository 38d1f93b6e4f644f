// Live streams and tickets against two API processes on one control plane,
// under the chart's RBAC: a WebSocket that subscribes to one id a thousand
// times, follows too many, or floods subscribe messages; a user opening
// streams without end; a deleted download; tickets instead of keys in URLs,
// accepted by either replica.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hashKey } from '../../api/api-keys.ts';
import { labels, type VideoDownloadStatus } from '../../crds/video-download.ts';
import { VideoDownloads } from '../../lib/kube/video-downloads.ts';
import { type ApiProcess, type ApiReplica, startApiProcess } from '../support/api-process.ts';
import { eventually } from '../support/eventually.ts';

let api: ApiProcess;
let second: ApiReplica;
const extraKeys = { carol: randomBytes(16).toString('hex'), dave: randomBytes(16).toString('hex') };
const limits = {
  VDL_API_MAX_LIVE_CONNECTIONS_PER_USER: '3',
  VDL_API_MAX_IDS_PER_SOCKET: '5',
  VDL_API_SUBSCRIBE_PER_MINUTE: '60',
  VDL_API_SUBSCRIBE_BURST: '15',
};

const downloads = () => new VideoDownloads(api.kube, api.namespace);

/** A download of this owner, made as kubectl would (so no quota is involved), in both replicas' caches. */
async function createDownload(owner: string): Promise<string> {
  const name = `dl-${randomBytes(10).toString('hex')}`;
  await downloads().create(
    name,
    { url: `https://videos.example/${name}` },
    { labels: { [labels.owner]: owner } },
  );
  const key = owner === 'carol' || owner === 'dave' ? extraKeys[owner] : api.keys[owner as 'alice'];
  for (const url of [api.url, second.url])
    await eventually(`${name} in the cache of ${url}`, async () => {
      const response = await fetch(`${url}/status/${name}`, { headers: { authorization: `Bearer ${key}` } });
      return response.status === 200 ? true : undefined;
    });
  return name;
}

async function setStatus(name: string, status: VideoDownloadStatus): Promise<void> {
  await downloads().patchStatus(name, status);
}

interface Socket {
  ws: WebSocket;
  messages: Array<{ type: string; job_id?: string; state?: string; detail?: string }>;
  /** The close code, once the socket closes; fails after a deadline with the messages seen. */
  closed: () => Promise<number>;
}

/** A WebSocket that records what it receives; resolves once open, rejects on a refused upgrade. */
function openSocket(base: string, options: { key?: string; query?: string } = {}): Promise<Socket> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws${options.query ?? ''}`, {
    headers: options.key ? { authorization: `Bearer ${options.key}` } : {},
  });
  const messages: Socket['messages'] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  let code: number | undefined;
  ws.on('close', (closedWith) => {
    code = closedWith;
  });
  const closed = () =>
    eventually(`the socket to close; messages: ${JSON.stringify(messages).slice(-300)}`, () => code);
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, messages, closed }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () =>
        reject(
          Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
            status: res.statusCode,
            retryAfter: res.headers['retry-after'],
            body,
          }),
        ),
      );
    });
    ws.on('error', () => {});
  });
}

/** The status of an upgrade that is expected to fail. */
async function refusedUpgrade(
  base: string,
  options: { key?: string; query?: string },
): Promise<{ status: number; retryAfter?: string; body: string }> {
  try {
    const socket = await openSocket(base, options);
    socket.ws.close();
    return { status: 101, body: '' };
  } catch (error) {
    return error as { status: number; retryAfter?: string; body: string };
  }
}

const statuses = (socket: Socket, state: string) =>
  socket.messages.filter((m) => m.type === 'status' && m.state === state).length;

beforeAll(async () => {
  api = await startApiProcess(limits, { serviceAccount: true });
  second = await api.startReplica();
  await api.setKeysText(
    `${api.keysText()}carol:user:${hashKey(extraKeys.carol)}\ndave:user:${hashKey(extraKeys.dave)}\n`,
  );
  for (const url of [api.url, second.url])
    for (const key of Object.values(extraKeys))
      await eventually(`the new keys on ${url}`, async () => {
        const response = await fetch(`${url}/downloads`, { headers: { authorization: `Bearer ${key}` } });
        return response.status === 200 ? true : undefined;
      });
});

afterAll(async () => {
  await api?.stop();
});

describe('one WebSocket', () => {
  it('follows an id once however often it is subscribed: one message per update', async () => {
    const id = await createDownload('alice');
    const socket = await openSocket(api.url, { key: api.keys.alice });
    for (let i = 0; i < 10; i++) socket.ws.send(JSON.stringify({ subscribe: Array(100).fill(id) }));
    // Each subscribe message is answered with the current state of what it names: 10 answers.
    await eventually('an answer to each subscribe message', () =>
      statuses(socket, 'PENDING') >= 10 ? true : undefined,
    );
    await setStatus(id, { phase: 'Running', progress: { percent: 50, stage: 'downloading' } });
    await eventually('the running state', () => (statuses(socket, 'IN_PROGRESS') > 0 ? true : undefined));
    await setStatus(id, { phase: 'Failed', reason: 'NotFound', message: 'gone' });
    // The socket closes after the terminal state, so everything it was sent has arrived.
    expect(await socket.closed()).toBe(1000);
    expect(statuses(socket, 'PENDING')).toBe(10);
    expect(statuses(socket, 'IN_PROGRESS')).toBe(1);
    expect(statuses(socket, 'FAILED')).toBe(1);
  });

  it('follows at most 5 ids: a subscribe beyond that is answered with an error and changes nothing', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await createDownload('root'));
    const socket = await openSocket(api.url, { key: api.keys.root });
    socket.ws.send(JSON.stringify({ subscribe: ids.slice(0, 5) }));
    await eventually('five states', () => (statuses(socket, 'PENDING') >= 5 ? true : undefined));
    socket.ws.send(JSON.stringify({ subscribe: [ids[5], ids[0]] }));
    const refusal = await eventually('the refusal', () => socket.messages.find((m) => m.type === 'error'));
    expect(refusal.detail).toMatch(/at most 5 unfinished downloads; this one follows 5 and asked for 1 more/);
    for (const id of ids.slice(0, 5)) await setStatus(id, { phase: 'Failed', reason: 'NotFound' });
    // Closed once the five are finished: the sixth, still unfinished, was never followed.
    expect(await socket.closed()).toBe(1000);
    expect(socket.messages.some((m) => m.job_id === ids[5])).toBe(false);
  });

  it('closes with 1008 after more subscribe messages than the rate allows', async () => {
    const id = await createDownload('bob');
    const socket = await openSocket(api.url, { key: api.keys.bob });
    // Burst 15, then one a second: 40 at once is over it however slowly they are read.
    for (let i = 0; i < 40; i++) socket.ws.send(JSON.stringify({ subscribe: [id] }));
    expect(await socket.closed()).toBe(1008);
    expect(socket.messages.at(-1)).toMatchObject({
      type: 'error',
      detail: 'more than 60 subscribe messages a minute; closing',
    });
    expect(statuses(socket, 'PENDING')).toBeLessThan(40);
  });

  it('says when a followed download is deleted', async () => {
    const id = await createDownload('root');
    const socket = await openSocket(second.url, { key: api.keys.root });
    socket.ws.send(JSON.stringify({ subscribe: [id] }));
    await eventually('its state', () => (statuses(socket, 'PENDING') > 0 ? true : undefined));
    await downloads().delete(id);
    expect(await socket.closed()).toBe(1000);
    expect(socket.messages.at(-1)).toEqual({ type: 'deleted', job_id: id });
  });
});

describe('live streams per user', () => {
  it('allows 3 per replica, WebSockets and event streams together; the next gets 429', async () => {
    const id = await createDownload('carol');
    const key = extraKeys.carol;
    const first = await openSocket(api.url, { key });
    const other = await openSocket(api.url, { key });
    const events = await fetch(`${api.url}/status/${id}/events`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(events.status).toBe(200);
    const refused = await refusedUpgrade(api.url, { key });
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toMatchObject({
      status: 429,
      detail: expect.stringMatching(/3 live streams/),
    });
    const moreEvents = await fetch(`${api.url}/status/${id}/events`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(moreEvents.status).toBe(429);
    expect(moreEvents.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // Per replica, as documented: the other one counts its own.
    (await openSocket(second.url, { key })).ws.close();
    // A closed stream gives its place back.
    first.ws.close();
    await eventually('a place again after one closed', async () => {
      const answer = await refusedUpgrade(api.url, { key });
      return answer.status === 101 ? true : undefined;
    });
    other.ws.close();
    await events.body?.cancel();
  });
});

describe('stream tickets', () => {
  it('open a WebSocket and an event stream on either replica; a key in the URL does not', async () => {
    const id = await createDownload('alice');
    const issued = await fetch(`${api.url}/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.keys.alice}` },
    });
    expect(issued.status).toBe(200);
    const { ticket, expires_at } = (await issued.json()) as { ticket: string; expires_at: string };
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
    const query = `?ticket=${encodeURIComponent(ticket)}`;
    const socket = await openSocket(second.url, { query });
    socket.ws.send(JSON.stringify({ subscribe: [id] }));
    await eventually('its state over the ticket', () => (statuses(socket, 'PENDING') > 0 ? true : undefined));
    socket.ws.close();
    const events = await fetch(`${second.url}/status/${id}/events${query}`);
    expect(events.status).toBe(200);
    await events.body?.cancel();

    expect((await refusedUpgrade(api.url, { query: `?access_token=${api.keys.alice}` })).status).toBe(401);
    expect((await refusedUpgrade(api.url, { query: `?ticket=${ticket.slice(0, -2)}` })).status).toBe(401);
    // A ticket opens streams only.
    for (const [method, path] of [
      ['GET', `/downloads${query}`],
      ['GET', `/status/${id}${query}`],
      ['POST', `/tickets${query}`],
    ] as const)
      expect((await fetch(`${api.url}${path}`, { method })).status, `${method} ${path}`).toBe(401);
    expect(
      (await fetch(`${api.url}/tickets`, { method: 'POST', headers: { authorization: `Bearer ${ticket}` } }))
        .status,
    ).toBe(401);
  });

  it('are refused once their key is revoked, and the streams they opened end', async () => {
    const id = await createDownload('bob');
    const issued = (await (
      await fetch(`${api.url}/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.keys.bob}` },
      })
    ).json()) as { ticket: string };
    const query = `?ticket=${encodeURIComponent(issued.ticket)}`;
    // The other replica: this one has had all of bob's subscribe messages for a while.
    const socket = await openSocket(second.url, { query });
    socket.ws.send(JSON.stringify({ subscribe: [id] }));
    await eventually('its state', () => (statuses(socket, 'PENDING') > 0 ? true : undefined));
    await api.setKeysText(
      `${api.keysText(['bob'])}carol:user:${hashKey(extraKeys.carol)}\ndave:user:${hashKey(extraKeys.dave)}\n`,
    );
    await socket.closed();
    await eventually("bob's ticket refused", async () =>
      (await refusedUpgrade(second.url, { query })).status === 401 ? true : undefined,
    );
  });
});
