// Oversized and malformed requests against the API process: bodies over the
// limit (declared, streamed, compressed), deep JSON, bytes that are not
// UTF-8, wrong media types and encodings, huge headers, ids that do not
// decode. Each gets a clear 4xx, no resource is created; connections that
// stall are closed; and afterwards the process is still up, healthy, and its
// memory did not follow the bytes sent.
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiProcess, startApiProcess } from '../support/api-process.ts';
import { eventually } from '../support/eventually.ts';
import { type RawRequest, rawRequest } from '../support/raw-http.ts';

let api: ApiProcess;
let auth: Record<string, string>;
const mebibyte = 1024 * 1024;
const json = 'application/json';

/** A body of the given size in 64 KiB chunks, never held whole in memory. */
function stream(bytes: number): () => Iterable<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  return function* () {
    for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk;
  };
}

const nested = (depth: number, open: string, inner: string, close: string) =>
  `{"url":"https://videos.example/v","format":${open.repeat(depth)}${inner}${close.repeat(depth)}}`;

const post = (body: RawRequest['body'], headers: Record<string, string | number> = {}): RawRequest => ({
  method: 'POST',
  path: '/download',
  headers: { 'content-type': json, ...headers },
  body,
});

/** [what, request, status]; the key is added to every request. */
const cases: Array<[string, RawRequest, number]> = [
  [
    'a JSON body over the 64 KiB limit',
    post(JSON.stringify({ url: `https://v.example/${'a'.repeat(70_000)}` })),
    413,
  ],
  ['10 MiB declared and streamed', post(stream(10 * mebibyte), { 'content-length': 10 * mebibyte }), 413],
  ['5 MiB chunked, no length', post(stream(5 * mebibyte)), 413],
  [
    'a gzip bomb (20 MiB of zeros in 20 KiB)',
    post(gzipSync(Buffer.alloc(20 * mebibyte)), { 'content-encoding': 'gzip' }),
    413,
  ],
  ['30,000 nested arrays', post(nested(30_000, '[', '', ']')), 422],
  ['10,000 nested objects', post(nested(10_000, '{"a":', '1', '}')), 422],
  ['100,000 nested arrays (over the limit)', post(nested(100_000, '[', '', ']')), 413],
  [
    'invalid UTF-8 in a string',
    post(
      Buffer.concat([
        Buffer.from('{"url":"https://v.example/'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]),
    ),
    400,
  ],
  [
    'an encoded surrogate (not UTF-8)',
    post(
      Buffer.concat([
        Buffer.from('{"url":"https://v.example/'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]),
    ),
    400,
  ],
  [
    'an overlong encoding of "/"',
    post(
      Buffer.concat([Buffer.from('{"url":"https://v.example'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
    ),
    400,
  ],
  ['truncated JSON', post('{"url": '), 400],
  ['JSON null', post('null'), 400],
  ['a JSON string', post('"https://v.example/"'), 400],
  ['a JSON array', post('[{"url":"https://v.example/"}]'), 422],
  ['an empty body', post(''), 422],
  [
    'a duplicate key smuggling an internal URL',
    post('{"url":"https://v.example/","url":"http://127.0.0.1:1/"}'),
    422,
  ],
  ['a __proto__ key', post('{"url":"https://v.example/","__proto__":{"admin":true}}'), 422],
  ['text/plain', post('{"url":"https://v.example/"}', { 'content-type': 'text/plain' }), 415],
  ['a form', post('url=https://v.example/', { 'content-type': 'application/x-www-form-urlencoded' }), 415],
  ['multipart', post('--x\r\n\r\n--x--', { 'content-type': 'multipart/form-data; boundary=x' }), 415],
  ['no content type', { method: 'POST', path: '/download', body: '{"url":"https://v.example/"}' }, 415],
  [
    'a latin1 charset',
    post('{"url":"https://v.example/"}', { 'content-type': `${json}; charset=latin1` }),
    415,
  ],
  ['an unknown content encoding', post('{}', { 'content-encoding': 'bogus' }), 415],
  ['gzip that is not gzip', post('not gzip at all', { 'content-encoding': 'gzip' }), 400],
  ['deflate that is not deflate', post('not deflate', { 'content-encoding': 'deflate' }), 400],
  [
    'an Idempotency-Key that is not ASCII',
    post('{"url":"https://v.example/"}', { 'idempotency-key': 'ÿ' }),
    400,
  ],
  [
    'an Idempotency-Key of 256 characters',
    post('{"url":"https://v.example/"}', { 'idempotency-key': 'k'.repeat(256) }),
    400,
  ],
  ['a 20 KiB header', { path: '/downloads', headers: { 'x-padding': 'a'.repeat(20 * 1024) } }, 431],
  ['a 1 MiB header', { path: '/downloads', headers: { 'x-padding': 'a'.repeat(mebibyte) } }, 431],
  ['a 100 KiB path', { path: `/status/${'a'.repeat(100 * 1024)}` }, 431],
  ['an id that does not percent-decode', { path: '/status/%FF' }, 404],
  ['a truncated percent-encoding', { path: '/result/%E0%A4%A' }, 404],
  ['an undecodable id to delete', { method: 'DELETE', path: '/downloads/%C0' }, 404],
  ['an undecodable id to follow', { path: '/status/%FF/events' }, 404],
  ['a list state that does not decode', { path: '/downloads?state=%FF' }, 400],
  ['a list limit that is not a number', { path: '/downloads?limit=1e999' }, 400],
  ['a list limit given twice', { path: '/downloads?limit=1&limit=2' }, 400],
  ['an unknown method on a known path', { method: 'PATCH', path: '/downloads' }, 405],
  ['a plain request to the WebSocket path', { path: '/ws' }, 426],
];

beforeAll(async () => {
  api = await startApiProcess();
  auth = { authorization: `Bearer ${api.keys.alice}` };
});

afterAll(async () => {
  await api?.stop();
});

describe('malformed and oversized requests', () => {
  it(`answer all ${cases.length} with the documented 4xx and create nothing`, async () => {
    const before = await api.countDownloads();
    const wrong: string[] = [];
    for (const [what, request, status] of cases) {
      const response = await rawRequest(api.url, { ...request, headers: { ...auth, ...request.headers } });
      const problem = response.headers['content-type']?.toString().startsWith('application/problem+json');
      // Node itself answers 431 before the application sees the request: no body there.
      const clear = status === 431 || (problem && JSON.parse(response.text).status === status);
      if (response.status !== status || !clear)
        wrong.push(
          `${what}: ${response.status} ${response.headers['content-type']} ${response.text.slice(0, 200)}`,
        );
    }
    expect(wrong).toEqual([]);
    expect(await api.countDownloads()).toBe(before);
    expect(api.process.exit, await api.logTail()).toBeUndefined();
  });

  it('keeps its memory while 20 clients at a time stream 20 MiB each, round after round', async () => {
    const mib = (bytes: number) => (bytes / mebibyte).toFixed(0);
    const round = async () => {
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => rawRequest(api.url, post(stream(20 * mebibyte), auth))),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(413));
      return api.memory();
    };
    const start = api.memory();
    // The first round grows the heap and socket buffers to their working size (50 to 140 MiB here).
    const warm = await round();
    const after = [await round(), await round()];
    console.info(
      `API peak memory: ${mib(start.peakBytes)} MiB at start, ${mib(warm.peakBytes)} after 400 MiB of bodies, ` +
        `${after.map((m) => mib(m.peakBytes)).join(' and ')} after 400 MiB more each; RSS now ${mib(api.memory().rssBytes)} MiB`,
    );
    // Holding the bodies would take 400 MiB a round; the limit keeps 64 KiB of each and
    // the rest is read and dropped, so 800 MiB more must not cost a quarter of that.
    expect((after.at(-1)?.peakBytes ?? 0) - warm.peakBytes).toBeLessThan(200 * mebibyte);
  });

  it('closes connections that stall in their headers or body, and serves others meanwhile', async () => {
    const starts = {
      headers: 'GET /downloads HTTP/1.1\r\nHost: vdl\r\nX-Slow: ',
      body: `POST /download HTTP/1.1\r\nHost: vdl\r\nAuthorization: Bearer ${api.keys.alice}\r\nContent-Type: ${json}\r\nContent-Length: 1000\r\n\r\n{"url":`,
    };
    const port = Number(new URL(api.url).port);
    const stalled = (['headers', 'body', 'headers', 'body', 'headers', 'body'] as const).map((part) => {
      const connection = { part, answer: '', closed: false };
      const socket = connect(port, '127.0.0.1', () => socket.write(starts[part]));
      socket.on('data', (data) => {
        connection.answer += String(data);
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        connection.closed = true;
      });
      return connection;
    });
    expect((await rawRequest(api.url, { path: '/healthz' })).status).toBe(200);
    // The server's headersTimeout is 20 s and its requestTimeout 60 s, checked every 30 s by Node.
    await eventually(
      'the API to close every stalled connection',
      () => (stalled.every((connection) => connection.closed) ? true : undefined),
      { timeoutMs: 240_000, intervalMs: 1000 },
    );
    for (const connection of stalled) expect(connection.answer, connection.part).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('is still up and healthy afterwards', async () => {
    expect(api.process.exit, await api.logTail()).toBeUndefined();
    expect((await rawRequest(api.url, { path: '/healthz' })).status).toBe(200);
    expect((await rawRequest(api.url, { path: '/readyz' })).status).toBe(200);
    const valid = await rawRequest(api.url, { ...post('{"url":"https://videos.example/ok"}', auth) });
    expect(valid.status, valid.text).toBe(202);
  });
});
