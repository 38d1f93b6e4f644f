// Streams a finished file into the multipart upload the operator prepared,
// through its presigned requests (the pod holds no storage credential),
// hashing it on the way. Transient errors are retried request by request;
// a failed or stopped upload is left for the Job's next pod (its parts are
// sent again over the old ones) or for the operator, which aborts it once
// the download ends or is deleted. A stop (SIGTERM) may be an eviction: an
// upload aborted here would fail the pod that replaces it (NoSuchUpload).
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { PresignedUpload } from '../../crds/upload-plan.ts';

export interface UploadResult {
  size: number;
  sha256: string;
}

export class UploadError extends Error {
  readonly code: string;
  readonly transient: boolean;
  constructor(message: string, code: string, transient: boolean) {
    super(message);
    this.code = code;
    this.transient = transient;
  }
}

const transientNetworkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

export function isTransientS3Error(error: unknown): boolean {
  if (error instanceof UploadError) return error.transient;
  const code = (error as { code?: string })?.code;
  return code !== undefined && transientNetworkCodes.has(code);
}

/** A stalled connection counts as a transient failure after this long without bytes. */
const idleTimeoutMs = 60_000;

interface Response {
  status: number;
  etag: string | undefined;
  body: string;
}

/** One presigned request; body is a function so each retry gets a fresh stream. */
function send(
  method: 'PUT' | 'POST' | 'DELETE',
  url: string,
  signal: AbortSignal | undefined,
  body?: { length: number; write: (into: NodeJS.WritableStream) => Promise<void> },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const target = new URL(url);
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
      method,
      headers: { 'content-length': String(body?.length ?? 0) },
      signal,
      timeout: idleTimeoutMs,
    });
    request.on('timeout', () =>
      request.destroy(Object.assign(new Error('storage stalled'), { code: 'ETIMEDOUT' })),
    );
    request.on('error', reject);
    request.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => {
        if (chunks.length < 64) chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          etag: response.headers.etag,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    if (body) body.write(request).catch((error) => request.destroy(error));
    else request.end();
  });
}

/** An S3 answer's failure, if it is one (S3 may say "error" in a 200 body of Complete). */
export function failureOf(response: { status: number; body: string }, what: string): UploadError | undefined {
  const code = /<Code>([^<]+)<\/Code>/.exec(response.body)?.[1];
  if (response.status >= 200 && response.status < 300 && !code) return undefined;
  const transient =
    response.status >= 500 ||
    response.status === 408 ||
    response.status === 429 ||
    ['SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout'].includes(code ?? '');
  const message = /<Message>([^<]+)<\/Message>/.exec(response.body)?.[1];
  return new UploadError(
    `${what}: ${response.status} ${code ?? ''} ${message ?? ''}`.trim(),
    code ?? `HTTP${response.status}`,
    transient,
  );
}

function checked(response: Response, what: string): Response {
  const failure = failureOf(response, what);
  if (failure) throw failure;
  return response;
}

/** Runs one request with retries of transient errors (1 s, 2 s, 4 s, ...). */
async function withRetries<T>(retries: number, signal: AbortSignal | undefined, attempt: () => Promise<T>) {
  for (let tried = 0; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted || tried >= retries || !isTransientS3Error(error)) throw error;
      await delay(1000 * 2 ** tried, undefined, { signal });
    }
  }
}

export interface UploadOptions {
  retries: number;
  /** Aborted on SIGTERM: the request in flight is cut; the upload stays for the Job's next pod. */
  signal?: AbortSignal;
}

/** The CompleteMultipartUpload body. */
export function completeBody(etags: string[]): string {
  const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`);
  return `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`;
}

/**
 * A file's sha256 over its bytes in order, each byte once: a part read again
 * for a retry passes over bytes already hashed.
 */
export class InOrderHash {
  private readonly hash = createHash('sha256');
  /** Bytes hashed so far, from the start of the file. */
  bytes = 0;
  update(chunk: Buffer, offset: number): void {
    if (offset > this.bytes) throw new Error(`bytes ${this.bytes}..${offset} were skipped`);
    const end = offset + chunk.length;
    if (end <= this.bytes) return;
    this.hash.update(chunk.subarray(this.bytes - offset));
    this.bytes = end;
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Sends bytes start..start+length of an open file as part index+1 (retried), hashing them; returns its ETag. */
export async function sendPart(
  upload: PresignedUpload,
  index: number,
  file: FileHandle,
  range: { start: number; length: number },
  hash: InOrderHash,
  options: UploadOptions,
  onHashed: (bytes: number) => void = () => {},
): Promise<string> {
  const { start, length } = range;
  const url = upload.parts[index];
  if (url === undefined)
    throw new UploadError(
      `part ${index + 1} is past the plan's ${upload.parts.length}`,
      'TooManyParts',
      false,
    );
  const response = await withRetries(options.retries, options.signal, async () =>
    checked(
      await send('PUT', url, options.signal, {
        length,
        write: async (into) => {
          let offset = start;
          const meter = new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              const before = hash.bytes;
              hash.update(chunk, offset);
              offset += chunk.length;
              if (hash.bytes > before) onHashed(hash.bytes);
              callback(null, chunk);
            },
          });
          const source =
            length > 0 ? file.createReadStream({ start, end: start + length - 1, autoClose: false }) : [];
          await pipeline(source, meter, into);
        },
      }),
      `part ${index + 1} of ${upload.key}`,
    ),
  );
  if (!response.etag) throw new UploadError(`part ${index + 1}: no ETag in the answer`, 'NoETag', true);
  return response.etag;
}

/** Makes the stored object of the parts sent, in order. */
export async function completeUpload(
  upload: PresignedUpload,
  etags: string[],
  options: UploadOptions,
): Promise<void> {
  const xml = Buffer.from(completeBody(etags));
  await withRetries(options.retries, options.signal, async () =>
    checked(
      await send('POST', upload.complete, options.signal, {
        length: xml.length,
        write: async (into) => {
          into.end(xml);
        },
      }),
      `completing ${upload.key}`,
    ),
  );
}

/** How many parts a file of size bytes takes in this upload (one for an empty file); too many is an error. */
export function partCountOf(upload: PresignedUpload, size: number): number {
  const count = Math.max(1, Math.ceil(size / upload.partSize));
  if (count > upload.parts.length)
    throw new UploadError(
      `${size} bytes need ${count} parts; the plan has ${upload.parts.length}`,
      'TooManyParts',
      false,
    );
  return count;
}

/**
 * Sends parts from..count of a file of size bytes and completes the upload.
 * etags holds the parts already sent (from before), hash their bytes.
 */
export async function sendRest(
  upload: PresignedUpload,
  file: FileHandle,
  size: number,
  sent: { etags: string[]; hash: InOrderHash },
  onProgress: (sent: number, total: number) => void,
  options: UploadOptions,
): Promise<UploadResult> {
  const count = partCountOf(upload, size);
  const etags = [...sent.etags];
  for (let part = etags.length; part < count; part++) {
    const start = part * upload.partSize;
    const length = Math.min(upload.partSize, size - start);
    etags.push(
      await sendPart(upload, part, file, { start, length }, sent.hash, options, (bytes) =>
        onProgress(bytes, size),
      ),
    );
  }
  await completeUpload(upload, etags, options);
  return { size, sha256: sent.hash.digest() };
}

async function uploadParts(
  upload: PresignedUpload,
  file: string,
  onProgress: (sent: number, total: number) => void,
  options: UploadOptions,
): Promise<UploadResult> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    return await sendRest(upload, handle, size, { etags: [], hash: new InOrderHash() }, onProgress, options);
  } finally {
    await handle.close();
  }
}

/** Drops the upload and its parts; bounded, since the pod is about to be killed. */
export async function abortUpload(upload: PresignedUpload): Promise<void> {
  const response = await send('DELETE', upload.abort, AbortSignal.timeout(5_000));
  // Already gone (completed, aborted) is as good.
  if (response.status !== 404) checked(response, `aborting ${upload.key}`);
}

/** Uploads a file into a presigned multipart upload; on a stop, cuts the request in flight and throws the abort, leaving the upload. */
export async function uploadFile(
  upload: PresignedUpload,
  file: string,
  onProgress: (sent: number, total: number) => void,
  options: UploadOptions,
): Promise<UploadResult> {
  try {
    return await uploadParts(upload, file, onProgress, options);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
}
