// Sends one signed event to a receiver. The host is resolved here, every
// answer checked against the address policy (lib/net/address-policy.ts) and
// the connection made to the address that was checked, so neither an
// internal URL nor a DNS answer that changes between check and connect
// (rebinding) reaches a service inside the cluster. Redirects are not
// followed: a 3xx is a failed attempt, not a way to another address.
import { lookup } from 'node:dns/promises';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { type AddressPolicy, refusal } from '../../../lib/net/address-policy.ts';
import type { AttemptOutcome } from './delivery.ts';
import type { SignedHeaders } from './signature.ts';

export interface Post {
  url: string;
  headers: SignedHeaders;
  body: string;
}

/** Refused whatever happens next: sending again cannot make the address allowed. */
export class RefusedTarget extends Error {
  override name = 'RefusedTarget';
}

type Resolve = (host: string) => Promise<string[]>;

const systemResolve: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((answer) => answer.address);

/** The address to connect to; throws RefusedTarget when any answer is internal and not allowed. */
export async function checkedAddress(
  url: URL,
  policy: AddressPolicy,
  resolve: Resolve = systemResolve,
): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const addresses = isIP(host) ? [host] : await resolve(host);
  if (addresses.length === 0) throw new Error(`${host} has no address`);
  // Every answer must be allowed: a mixed answer is how rebinding attacks start.
  for (const address of addresses) {
    const why = refusal(address, port, policy);
    if (why) throw new RefusedTarget(`${url.host} refused: ${why}`);
  }
  return addresses[0] as string;
}

/** A lookup that answers only the checked address, so the socket goes nowhere else. */
function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

export async function send(
  post: Post,
  policy: AddressPolicy,
  timeoutMs: number,
  resolve?: Resolve,
): Promise<AttemptOutcome> {
  const url = new URL(post.url);
  let address: string;
  try {
    address = await checkedAddress(url, policy, resolve);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { delivered: false, error: message, permanent: error instanceof RefusedTarget };
  }
  const options: RequestOptions = {
    method: 'POST',
    lookup: pinnedLookup(address),
    headers: {
      ...post.headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(post.body),
      'user-agent': 'vdl-operator',
    },
    signal: AbortSignal.timeout(timeoutMs),
    // One connection per attempt: nothing stays open to a receiver between them.
    agent: false,
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<AttemptOutcome>((resolveOutcome) => {
    const req = request(url, options, (response) => {
      // The answer's body says nothing we keep; read it so the socket can close.
      response.resume();
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        resolveOutcome(
          status >= 200 && status < 300
            ? { delivered: true }
            : { delivered: false, error: `${url.host} answered ${status}` },
        );
      });
      response.on('error', (error) => resolveOutcome({ delivered: false, error: describe(error, url) }));
    });
    req.on('error', (error) => resolveOutcome({ delivered: false, error: describe(error, url) }));
    req.end(post.body);
  });
}

function describe(error: Error & { code?: string }, url: URL): string {
  if (error.name === 'TimeoutError' || error.name === 'AbortError')
    return `${url.host} did not answer in time`;
  return `${url.host}: ${error.code ?? error.message}`;
}
