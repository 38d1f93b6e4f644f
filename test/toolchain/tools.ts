// Where the upstream programs built by install-tools.sh live. One reader of
// versions.env, so the TypeScript side and the shell side agree on versions.
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

const versionsFile = new URL('./versions.env', import.meta.url);

export function parseVersionsEnv(text: string): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(\S+)\s*$/.exec(line);
    if (match?.[1] && match[2]) versions[match[1]] = match[2];
  }
  return versions;
}

export const versions = parseVersionsEnv(readFileSync(versionsFile, 'utf8'));

export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.VDL_TOOLS_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vdl', 'tools');
}

export class MissingToolError extends Error {
  override name = 'MissingToolError';
}

function version(key: string): string {
  const value = versions[key];
  if (!value) throw new Error(`${key} is not set in test/toolchain/versions.env`);
  return value;
}

function onPath(command: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return command;
}

export type Tool =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubectl'
  | 'minio'
  | 'helm'
  | 'kube-score'
  | 'promtool'
  | 'yt-dlp'
  | 'ffmpeg'
  | 'schemathesis'
  | 'kstatus-of'
  | 'kubelet'
  | 'kube-proxy'
  | 'crictl'
  | 'coredns'
  | 'pause';

/** As install-tools.sh names the build of test/toolchain/kstatus: by the program's own source. */
export function kstatusSourceHash(): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) {
    hash.update(readFileSync(new URL(`./kstatus/${file}`, import.meta.url)));
  }
  return hash.digest('hex').slice(0, 12);
}

/** Where each tool is expected, and which install-tools.sh target provides it. */
function toolLocation(tool: Tool, dir: string): { path: string; installTarget: string } {
  const kube = (binary: string) => ({
    path: join(dir, `kubernetes-${version('KUBERNETES_VERSION')}`, 'bin', binary),
    installTarget: 'kubernetes',
  });
  switch (tool) {
    case 'etcd':
      return { path: join(dir, `etcd-${version('ETCD_VERSION')}`, 'bin', 'etcd'), installTarget: 'etcd' };
    case 'kube-apiserver':
    case 'kube-controller-manager':
    case 'kube-scheduler':
    case 'kubectl':
      return kube(tool);
    case 'kubelet':
    case 'kube-proxy':
    case 'crictl':
    case 'coredns':
    case 'pause':
      return {
        path: join(
          dir,
          `kube-node-${version('KUBERNETES_VERSION')}-coredns-${version('COREDNS_VERSION')}`,
          'bin',
          tool,
        ),
        installTarget: 'node-tools',
      };
    case 'minio':
      return { path: join(dir, `minio-${version('MINIO_VERSION')}`, 'bin', 'minio'), installTarget: 'minio' };
    case 'helm':
      return { path: join(dir, `helm-${version('HELM_VERSION')}`, 'bin', 'helm'), installTarget: 'helm' };
    case 'kube-score':
      return {
        path: join(dir, `kube-score-${version('KUBE_SCORE_VERSION')}`, 'bin', 'kube-score'),
        installTarget: 'kube-score',
      };
    case 'promtool':
      return {
        path: join(dir, `promtool-${version('PROMETHEUS_VERSION')}`, 'bin', 'promtool'),
        installTarget: 'promtool',
      };
    case 'yt-dlp':
      return {
        path: join(dir, `yt-dlp-${version('YT_DLP_VERSION')}`, 'venv', 'bin', 'yt-dlp'),
        installTarget: 'media',
      };
    case 'ffmpeg':
      return { path: onPath('ffmpeg'), installTarget: 'media' };
    case 'schemathesis':
      return {
        path: join(dir, `schemathesis-${version('SCHEMATHESIS_VERSION')}`, 'venv', 'bin', 'schemathesis'),
        installTarget: 'fuzzer',
      };
    case 'kstatus-of':
      return {
        path: join(
          dir,
          `kstatus-${version('CLI_UTILS_VERSION')}-${kstatusSourceHash()}`,
          'bin',
          'kstatus-of',
        ),
        installTarget: 'kstatus',
      };
  }
}

/** Absolute path of an installed tool, or a MissingToolError that says how to get it. */
export function toolPath(tool: Tool, dir = toolsDir()): string {
  const { path, installTarget } = toolLocation(tool, dir);
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    throw new MissingToolError(
      `${tool} is not installed at ${path}; run \`make tools\` (or test/toolchain/install-tools.sh ${installTarget})`,
    );
  }
}

/** CRDs of other projects that install-tools.sh fetches from their Go modules, by its target. */
const moduleCrdSets = {
  'prometheus-crds': {
    name: 'prometheus-operator',
    version: 'PROMETHEUS_OPERATOR_VERSION',
    files: ['servicemonitors', 'podmonitors', 'prometheusrules'].map((crd) => `monitoring.coreos.com_${crd}`),
  },
  'gateway-crds': {
    name: 'gateway-api',
    version: 'GATEWAY_API_VERSION',
    files: ['gateway.networking.k8s.io_httproutes'],
  },
} as const;

/** The files of one CRD set (install-tools.sh TARGET), or a MissingToolError that says how to get them. */
export function moduleCrds(target: keyof typeof moduleCrdSets, dir = toolsDir()): string[] {
  const set = moduleCrdSets[target];
  const crdDir = join(dir, `${set.name}-crds-${version(set.version)}`);
  const files = set.files.map((file) => join(crdDir, `${file}.yaml`));
  for (const file of files) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new MissingToolError(
        `${file} is missing; run \`make tools\` (or test/toolchain/install-tools.sh ${target})`,
      );
    }
  }
  return files;
}

/** The ServiceMonitor, PodMonitor and PrometheusRule CRDs of prometheus-operator. */
export const prometheusOperatorCrds = (dir?: string) => moduleCrds('prometheus-crds', dir);
