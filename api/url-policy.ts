// Which URLs the API accepts before any resource exists: http(s) only,
// bounded length, host allow/deny lists, and no internal address in any
// spelling (the WHATWG parser turns decimal, octal and hex IPv4 forms into
// dotted quads; names are resolved and every answer checked). The download
// pod checks again at connect time, after every redirect.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type HostLists, hostRefusal, normalizedHost } from '../crds/host-list.ts';
import { type AddressPolicy, refusal } from '../lib/net/address-policy.ts';

export interface UrlPolicy extends AddressPolicy, HostLists {
  maxLength: number;
  /** Resolves a host name; tests and offline machines may answer nothing. */
  resolve?: (host: string) => Promise<string[]>;
}

async function systemResolve(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    // Unresolvable here (no DNS, or not yet): the download pod resolves and checks again.
    return [];
  }
}

/** Undefined when the URL may be submitted, otherwise a message for the 422. */
export async function urlRefusal(raw: string, policy: UrlPolicy): Promise<string | undefined> {
  if (raw.length > policy.maxLength) return `url is longer than ${policy.maxLength} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `url scheme ${url.protocol} is not allowed; use http or https`;
  if (url.username || url.password) return 'url must not contain credentials';
  // A trailing dot names the same host ("localhost." is localhost): dropped before any list or lookup.
  const host = normalizedHost(url.hostname);
  const byName = hostRefusal(host, policy);
  if (byName) return `url: ${byName}`;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const addresses = isIP(host) ? [host] : await (policy.resolve ?? systemResolve)(host);
  for (const address of addresses) {
    const why = refusal(address, port, policy);
    if (why) return `url points to a forbidden address: ${why}`;
  }
  return undefined;
}
