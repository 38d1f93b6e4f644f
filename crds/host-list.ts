// Which hosts a download may reach by name: the operator's allow and deny
// lists of host suffixes. The API checks the submitted URL against them; the
// download pod's egress proxy checks every host yt-dlp asks for, so a URL
// that another parser reads differently, or a resource applied past the API,
// meets the same lists.

/** Environment variables that carry the lists from the operator into a download pod. */
export const hostListEnv = { allow: 'VDL_ALLOW_HOSTS', deny: 'VDL_DENY_HOSTS' } as const;

export interface HostLists {
  /** Host suffixes; when not empty, only these hosts (and their subdomains) may be reached. */
  allowHosts: string[];
  denyHosts: string[];
}

/** "a.example, B.example" → ["a.example", "b.example"]. */
export function hostList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((host) => host.trim().toLowerCase().replace(/\.$/, ''))
    .filter(Boolean);
}

/** One spelling per host: lower case, no IPv6 brackets, no trailing dot ("localhost." is localhost). */
export function normalizedHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

function matches(host: string, suffixes: string[]): boolean {
  return suffixes.some((suffix) => host === suffix || host.endsWith(`.${suffix}`));
}

/** Undefined when the host may be reached, otherwise why not. */
export function hostRefusal(rawHost: string, lists: HostLists): string | undefined {
  const host = normalizedHost(rawHost);
  if (matches(host, lists.denyHosts)) return `host ${host} is not allowed`;
  if (lists.allowHosts.length > 0 && !matches(host, lists.allowHosts))
    return `host ${host} is not in the allowed list`;
  return undefined;
}
