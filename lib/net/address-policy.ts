// Which addresses a download may connect to: public unicast only. Loopback,
// private, link-local (the cloud metadata address 169.254.169.254 among
// them), CGNAT, multicast, reserved and every IPv6 form that embeds or maps
// an IPv4 address are refused, unless listed as explicitly allowed
// (ip:port), which only tests and local development do.
import ipaddr from 'ipaddr.js';

export interface AddressPolicy {
  /** Exact ip:port pairs (IPv6 in brackets) that may be reached although internal. */
  allowed: Set<string>;
}

export function parseAllowList(text: string | undefined): Set<string> {
  return new Set(
    (text ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  );
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

// ::a.b.c.d (::/96, deprecated by RFC 4291) embeds an IPv4 address, yet
// ipaddr.js calls it unicast when written in hex (::7f00:1, as the URL parser
// writes it); a host with a v4-compatible route reaches a.b.c.d.
function isIPv4Compatible(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).match(ipaddr.IPv6.parse('::'), 96);
}

/** Undefined when the address may be reached, otherwise why not. */
export function refusal(address: string, port: number, policy: AddressPolicy): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const normalized = parsed.toString();
  if (policy.allowed.has(endpoint(normalized, port))) return undefined;
  const named = parsed.range();
  const range = named === 'unicast' && isIPv4Compatible(parsed) ? 'ipv4Compatible' : named;
  if (range === 'unicast') return undefined;
  return `${normalized} is a ${range} address`;
}
