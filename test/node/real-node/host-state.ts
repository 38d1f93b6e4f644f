// What a real node could leave changed on the host, written down so a test
// can compare before and after: links, addresses, routes, firewall rules,
// the sysctls it might touch, mounts, cgroups and the fixed paths kubelet,
// containerd and CNI write to by default.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function output(command: string, args: string[]): Promise<string> {
  try {
    return (await run(command, args, { maxBuffer: 32 * 1024 * 1024 })).stdout;
  } catch (error) {
    return `(${command} failed: ${(error as Error).message.split('\n')[0]})`;
  }
}

async function entries(dir: string): Promise<string> {
  try {
    return (await readdir(dir)).sort().join(' ');
  } catch {
    return '(absent)';
  }
}

const sysctls = [
  'net/ipv4/ip_forward',
  'net/ipv4/conf/all/forwarding',
  'net/ipv4/conf/all/route_localnet',
  'net/bridge/bridge-nf-call-iptables',
  'net/netfilter/nf_conntrack_max',
  'vm/overcommit_memory',
  'kernel/panic',
];

export interface HostState {
  /** Must be equal before and after: nothing here changes unless something is left behind. */
  fixed: Record<string, string>;
  /** Sets that other tests' pods add to and take from while this one runs; only additions are leftovers. */
  mounts: Set<string>;
  /** kubelet's links in /var/log/containers (another real node's pods come and go there too). */
  containerLogs: Set<string>;
}

export async function hostState(): Promise<HostState> {
  const fixed: Record<string, string> = {
    links: (await output('ip', ['-o', 'link', 'show']))
      .split('\n')
      .map((line) => line.split(':')[1]?.trim() ?? '')
      .sort()
      .join(' '),
    addresses: await output('ip', ['-br', 'addr']),
    routes: await output('ip', ['route', 'show', 'table', 'all']),
    nftables: await output('nft', ['list', 'ruleset']),
    // Counters change with traffic; the rules do not.
    iptables: (await output('iptables-save', [])).replace(/\[\d+:\d+\]/g, '').replace(/^#.*$/gm, ''),
    netns: await entries('/run/netns'),
    cni: `${await entries('/etc/cni')} | ${await entries('/var/lib/cni')} | ${await entries('/opt/cni')}`,
    containerd: `${await entries('/run/containerd')} | ${await entries('/var/lib/containerd')} | ${await entries('/opt/containerd')}`,
    kubelet: `${await entries('/var/lib/kubelet')} | ${await entries('/var/log/pods')} | ${(await entries('/var/log/containers')) === '(absent)' ? 'absent' : 'present'}`,
    containers: await entries('/var/lib/containers'),
  };
  for (const name of sysctls) {
    fixed[`sysctl ${name}`] = await readFile(`/proc/sys/${name}`, 'utf8').catch(() => '(absent)');
  }
  for (const hierarchy of (await readdir('/sys/fs/cgroup')).sort()) {
    fixed[`cgroup ${hierarchy}`] = (
      await readdir(`/sys/fs/cgroup/${hierarchy}`, { withFileTypes: true }).catch(() => [])
    )
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort()
      .join(' ');
  }
  const mounts = new Set(
    (await output('findmnt', ['-rn', '-o', 'TARGET,FSTYPE'])).split('\n').filter(Boolean),
  );
  const containerLogs = new Set(
    (await entries('/var/log/containers')).split(' ').filter((e) => e && e !== '(absent)'),
  );
  return { fixed, mounts, containerLogs };
}

/** What differs: fixed parts that changed, and mounts that appeared. Empty when the host is as it was. */
export function hostChanges(before: HostState, after: HostState): string[] {
  const changes = Object.keys({ ...before.fixed, ...after.fixed })
    .filter((key) => before.fixed[key] !== after.fixed[key])
    .map((key) => `${key}: ${JSON.stringify(before.fixed[key])} -> ${JSON.stringify(after.fixed[key])}`);
  for (const mount of after.mounts) if (!before.mounts.has(mount)) changes.push(`mount left: ${mount}`);
  for (const link of after.containerLogs)
    if (!before.containerLogs.has(link)) changes.push(`/var/log/containers link left: ${link}`);
  return changes;
}
