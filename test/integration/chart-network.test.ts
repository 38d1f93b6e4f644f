// What the chart lets through and what it bounds, on the manifests Helm
// renders: each pod's NetworkPolicies judged by our own evaluator of their
// semantics (no network plugin enforces them here), the Ingress's routes,
// every pod's ephemeral storage, and kube-score's view of the same. The API
// server's address comes from the cluster at install time: checked against
// the real one.
import { execFile } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import ipaddr from 'ipaddr.js';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { refusal as addressRefusal } from '../../lib/net/address-policy.ts';
import { loadOperatorConfig } from '../../operator/config.ts';
import { desiredJob } from '../../operator/controllers/video-download/desired-job.ts';
import { volumeCleanupJob } from '../../operator/controllers/video-download/volume-output.ts';
import { type Manifest, renderChart } from '../support/chart-render.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import {
  allowed,
  type Destination,
  type NetworkPolicy,
  type Pod,
  refusal,
} from '../support/network-policy.ts';
import { toolPath } from '../toolchain/tools.ts';

const namespace = 'vdl';
const render = (values: string[] = [], flags: string[] = []) => renderChart(namespace, values, flags);

function policiesOf(manifests: Manifest[]): NetworkPolicy[] {
  return manifests.filter((m) => m.kind === 'NetworkPolicy') as unknown as NetworkPolicy[];
}

function downloadJob() {
  const job = desiredJob(
    {
      apiVersion: 'vdl.dev/v1alpha1',
      kind: 'VideoDownload',
      metadata: { name: 'clip', namespace, uid: '00000000-0000-0000-0000-000000000001' },
      spec: VideoDownloadSpec.parse({ url: 'https://example.com/v' }),
    },
    loadOperatorConfig({}),
  );
  delete job.metadata?.ownerReferences;
  return job;
}

/** The Job that removes a deleted download's file from its volume (operator: volume-output.ts). */
function volumeCleanupJobOf() {
  const download = {
    apiVersion: 'vdl.dev/v1alpha1' as const,
    kind: 'VideoDownload' as const,
    metadata: { name: 'clip', namespace, uid: '00000000-0000-0000-0000-000000000002' },
    spec: VideoDownloadSpec.parse({
      url: 'https://example.com/v',
      storage: { volume: { claimName: 'media' } },
    }),
    status: {
      phase: 'Succeeded' as const,
      jobName: 'clip',
      result: {
        volume: { claimName: 'media', path: 'a/b.mp4' },
        size: 1,
        sha256: 'a'.repeat(64),
        contentType: 'video/mp4',
      },
    },
  };
  const job = volumeCleanupJob(download, loadOperatorConfig({}));
  if (!job) throw new Error('no cleanup Job for a download that wrote its own file');
  delete job.metadata?.ownerReferences;
  return job;
}

let ip = 0;
function podFrom(name: string, labels: Record<string, string>, podNamespace = namespace): Pod {
  ip += 1;
  return {
    name,
    namespace: podNamespace,
    namespaceLabels: { 'kubernetes.io/metadata.name': podNamespace },
    labels,
    // Pod addresses are private, as on every cluster.
    ip: `10.244.0.${ip}`,
  };
}

/** The chart's pods (from its Deployments and test Pod) and a download pod, by component. */
function podsOf(manifests: Manifest[]): Record<string, Pod> {
  const pods: Record<string, Pod> = {};
  for (const m of manifests) {
    const labels =
      m.kind === 'Deployment'
        ? ((m.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata
            .labels ?? {})
        : m.kind === 'Pod'
          ? (m.metadata.labels ?? {})
          : undefined;
    if (labels) pods[labels['app.kubernetes.io/component'] as string] = podFrom(m.metadata.name, labels);
  }
  pods.download = podFrom('clip-x7k2p', downloadJob().spec?.template.metadata?.labels ?? {});
  return pods;
}

const dns = podFrom('coredns', { 'k8s-app': 'kube-dns' }, 'kube-system');
const outsiders = [
  podFrom('intruder', { app: 'intruder' }, 'elsewhere'),
  podFrom('neighbour', { app: 'neighbour' }),
  // Wearing the chart's labels, but of another release.
  podFrom('lookalike', { 'app.kubernetes.io/part-of': 'vdl', 'app.kubernetes.io/instance': 'other' }),
];
const publicV4 = { ip: '93.184.216.34' };
const publicV6 = { ip: '2606:2800:220:1:248:1893:25c8:1946' };
const apiServer = { ip: '172.18.0.2' };

describe('the NetworkPolicies of the chart (default values)', () => {
  let policies: NetworkPolicy[];
  let pods: Record<string, Pod>;
  const may = (from: Pod, to: Destination, port: number, protocol: 'TCP' | 'UDP' = 'TCP') =>
    allowed(policies, { from, to, port, protocol });

  beforeAll(async () => {
    const manifests = await render();
    policies = policiesOf(manifests);
    pods = podsOf(manifests);
  });

  it('selects every pod of vdl', () => {
    for (const pod of Object.values(pods)) {
      const selected = policies.some((p) => refusal([p], { from: pod, to: { ip: '192.0.2.1' }, port: 1 }));
      expect(selected, pod.name).toBe(true);
    }
  });

  it.each(['api', 'operator', 'minio', 'download', 'helm-test'])(
    'refuses pods outside the policies on the %s pod, but for its public port',
    (component) => {
      const target = pods[component] as Pod;
      const publicPort = { api: 8000, operator: 8080 }[component];
      for (const outsider of outsiders) {
        for (const port of [22, 80, 443, 8000, 8080, 9000, 9001]) {
          expect(may(outsider, target, port), `${outsider.name} → ${component}:${port}`).toBe(
            port === publicPort,
          );
        }
      }
    },
  );

  it('lets download pods reach DNS, HTTP and HTTPS on the internet, and MinIO', () => {
    const download = pods.download as Pod;
    expect(may(download, dns, 53, 'UDP')).toBe(true);
    expect(may(download, dns, 53, 'TCP')).toBe(true);
    // A pod that only calls itself DNS, outside the cluster DNS's namespace.
    expect(
      may(
        download,
        { ...dns, namespace: 'team', namespaceLabels: { 'kubernetes.io/metadata.name': 'team' } },
        53,
        'UDP',
      ),
    ).toBe(false);
    for (const address of [publicV4, publicV6]) {
      expect(may(download, address, 443)).toBe(true);
      expect(may(download, address, 80)).toBe(true);
    }
    expect(may(download, pods.minio as Pod, 9000)).toBe(true);
  });

  it.each([
    ['the cloud metadata address', '169.254.169.254', 80],
    ['a private address', '10.0.0.1', 443],
    ['a private address', '192.168.1.1', 80],
    ['CGNAT', '100.64.0.1', 443],
    ['IETF protocol assignments', '192.0.0.1', 443],
    ['the benchmarking range', '198.18.0.1', 443],
    ['the reserved class E', '240.0.0.1', 443],
    ['6to4', '2002:a00:1::1', 443],
    ['local-use NAT64', '64:ff9b:1::a00:1', 443],
    ['NAT64', '64:ff9b::a00:1', 443],
    ['an IPv4-mapped address', '::ffff:a00:1', 443],
    ['a unique local address', 'fd00::1', 443],
    ['IPv6 link-local', 'fe80::1', 443],
    ['an API server port on an arbitrary address', '93.184.216.34', 6443],
    ['an API server on a private address, when none is configured', '172.18.0.2', 6443],
    ['an API server on a private address on 443, when none is configured', '172.18.0.2', 443],
    ['SSH on a public address', '93.184.216.34', 22],
  ])('keeps download pods from %s (%s:%d)', (_name, address, port) => {
    expect(may(pods.download as Pod, { ip: address }, port)).toBe(false);
  });

  it("keeps download pods from vdl's other pods", () => {
    const download = pods.download as Pod;
    expect(may(download, pods.api as Pod, 8000)).toBe(false);
    expect(may(download, pods.operator as Pod, 8080)).toBe(false);
    expect(may(download, pods.minio as Pod, 9001)).toBe(false);
  });

  it('lets the API and the operator reach DNS, MinIO and the API server, nothing else', () => {
    for (const component of ['api', 'operator']) {
      const pod = pods[component] as Pod;
      expect(may(pod, dns, 53, 'UDP'), component).toBe(true);
      expect(may(pod, pods.minio as Pod, 9000), component).toBe(true);
      // The API server's address is unknown to `helm template`: its ports, on any address.
      expect(may(pod, apiServer, 6443), component).toBe(true);
      expect(may(pod, apiServer, 443), component).toBe(true);
      // The operator's webhooks reach public receivers (on 80 and 443, which the API server's
      // ports already open on any address here); the API reaches no one.
      expect(may(pod, publicV4, 80), component).toBe(component === 'operator');
      expect(may(pod, publicV4, 22), component).toBe(false);
      expect(may(pod, { ip: '10.0.0.1' }, 22), component).toBe(false);
      expect(may(pod, { ip: '10.0.0.1' }, 80), component).toBe(false);
      expect(may(pod, pods.download as Pod, 8000), component).toBe(false);
    }
    expect(may(pods.api as Pod, pods.operator as Pod, 8080)).toBe(false);
  });

  it('lets MinIO connect nowhere, and the helm test pod only to the API', () => {
    expect(may(pods.minio as Pod, publicV4, 443)).toBe(false);
    expect(may(pods.minio as Pod, dns, 53, 'UDP')).toBe(false);
    expect(may(pods['helm-test'] as Pod, pods.api as Pod, 8000)).toBe(true);
    expect(may(pods['helm-test'] as Pod, pods.minio as Pod, 9000)).toBe(false);
    expect(may(pods['helm-test'] as Pod, publicV4, 443)).toBe(false);
  });

  // lib/net/address-policy.ts and the chart's ipBlocks guard the same
  // addresses: the proxy in the pod, and the network plugin around it.
  describe('agrees with the egress proxy of the downloader', () => {
    type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];
    const special = (ranges: Record<string, Range | Range[]>): Range[] =>
      Object.values(ranges).flatMap((r) => (Array.isArray(r[0]) ? (r as Range[]) : [r as Range]));
    const ranges: Range[] = [
      ...special(
        (ipaddr.IPv4.prototype as unknown as { SpecialRanges: Record<string, Range | Range[]> })
          .SpecialRanges,
      ),
      ...special(
        (ipaddr.IPv6.prototype as unknown as { SpecialRanges: Record<string, Range | Range[]> })
          .SpecialRanges,
      ),
    ];
    const ends = (cidr: string): string[] => {
      const [network, bits] = ipaddr.parseCIDR(cidr);
      const first = ipaddr.fromByteArray(
        network.toByteArray().map((byte, i) => byte & ~(0xff >> Math.max(0, Math.min(8, bits - i * 8)))),
      );
      const last = ipaddr.fromByteArray(
        network.toByteArray().map((byte, i) => byte | (0xff >> Math.max(0, Math.min(8, bits - i * 8)))),
      );
      return [first.toString(), last.toString()];
    };

    it('refuses every range the proxy refuses', () => {
      expect(ranges.length).toBeGreaterThan(30);
      for (const [network, bits] of ranges) {
        for (const address of ends(`${network.toString()}/${bits}`)) {
          expect(addressRefusal(address, 443, { allowed: new Set() }), address).toBeDefined();
          expect(may(pods.download as Pod, { ip: address }, 443), `${address} (${network}/${bits})`).toBe(
            false,
          );
        }
      }
    });

    it('excepts nothing from the internet that the proxy lets through', () => {
      const internet = policies
        .flatMap((p) => p.spec.egress ?? [])
        .flatMap((rule) => rule.to ?? [])
        .flatMap((peer) => (peer.ipBlock ? [peer.ipBlock] : []));
      const excepts = internet.flatMap((block) => block.except ?? []);
      expect(excepts.length).toBeGreaterThan(20);
      for (const cidr of excepts) {
        for (const address of ends(cidr)) {
          expect(addressRefusal(address, 443, { allowed: new Set() }), `${address} of ${cidr}`).toBeDefined();
        }
      }
    });
  });
});

describe('the NetworkPolicies of the chart (other values)', () => {
  it('opens the API server only at the configured addresses and ports', async () => {
    const manifests = await render([
      'networkPolicy.apiServerCIDRs={172.18.0.2/32}',
      'networkPolicy.apiServerPorts={6443}',
    ]);
    const policies = policiesOf(manifests);
    const pods = podsOf(manifests);
    for (const component of ['download', 'api', 'operator']) {
      const pod = pods[component] as Pod;
      expect(allowed(policies, { from: pod, to: apiServer, port: 6443 }), component).toBe(true);
      expect(allowed(policies, { from: pod, to: apiServer, port: 443 }), component).toBe(false);
      expect(allowed(policies, { from: pod, to: { ip: '172.18.0.3' }, port: 6443 }), component).toBe(false);
      expect(allowed(policies, { from: pod, to: publicV4, port: 6443 }), component).toBe(false);
    }
  });

  it("opens webhooks' allowed internal receivers to the operator at their port only, and nothing without webhooks", async () => {
    const withReceiver = await render(['operator.webhooks.allowedInternalHosts={10.96.0.5:8080}']);
    const policies = policiesOf(withReceiver);
    const pods = podsOf(withReceiver);
    const operator = pods.operator as Pod;
    expect(allowed(policies, { from: operator, to: { ip: '10.96.0.5' }, port: 8080 })).toBe(true);
    expect(allowed(policies, { from: operator, to: { ip: '10.96.0.5' }, port: 8081 })).toBe(false);
    expect(allowed(policies, { from: operator, to: { ip: '10.96.0.6' }, port: 8080 })).toBe(false);
    expect(allowed(policies, { from: pods.api as Pod, to: { ip: '10.96.0.5' }, port: 8080 })).toBe(false);
    const without = await render(['operator.webhooks.enabled=false']);
    expect(
      allowed(policiesOf(without), { from: podsOf(without).operator as Pod, to: publicV4, port: 80 }),
    ).toBe(false);
  });

  it('opens external S3 at its configured addresses, and MinIO is gone', async () => {
    const manifests = await render([
      'minio.enabled=false',
      's3.endpoint=https://s3.example.com:9443',
      's3.existingSecret=my-s3',
      'networkPolicy.s3CIDRs={10.20.0.0/16}',
    ]);
    const policies = policiesOf(manifests);
    const pods = podsOf(manifests);
    expect(pods.minio).toBeUndefined();
    for (const component of ['download', 'api', 'operator']) {
      const pod = pods[component] as Pod;
      expect(allowed(policies, { from: pod, to: { ip: '10.20.1.1' }, port: 9443 }), component).toBe(true);
      expect(allowed(policies, { from: pod, to: { ip: '10.21.1.1' }, port: 9443 }), component).toBe(false);
    }
  });

  it("lets the API and the operator reach external S3's port when no addresses are given", async () => {
    const manifests = await render([
      'minio.enabled=false',
      's3.endpoint=https://s3.example.com:9443',
      's3.existingSecret=my-s3',
    ]);
    const policies = policiesOf(manifests);
    const pods = podsOf(manifests);
    expect(allowed(policies, { from: pods.api as Pod, to: { ip: '10.20.1.1' }, port: 9443 })).toBe(true);
    expect(allowed(policies, { from: pods.api as Pod, to: { ip: '10.20.1.1' }, port: 9000 })).toBe(false);
    // Download pods keep to the public internet for it.
    expect(allowed(policies, { from: pods.download as Pod, to: { ip: '10.20.1.1' }, port: 9443 })).toBe(
      false,
    );
  });

  it('admits the configured presigned-link path to MinIO, and downloads of every namespace when cluster-wide', async () => {
    const manifests = await render(
      ['operator.clusterWide=true'],
      [
        '--set-json',
        'networkPolicy.minioIngressFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"ingress"}}}]',
      ],
    );
    const policies = policiesOf(manifests);
    const pods = podsOf(manifests);
    const ingressController = podFrom('controller', { app: 'ingress' }, 'ingress');
    const remoteDownload = { ...(pods.download as Pod), namespace: 'team', namespaceLabels: { team: 'a' } };
    expect(allowed(policies, { from: ingressController, to: pods.minio as Pod, port: 9000 })).toBe(true);
    expect(allowed(policies, { from: remoteDownload, to: pods.minio as Pod, port: 9000 })).toBe(true);
    expect(allowed(policies, { from: outsiders[0] as Pod, to: pods.minio as Pod, port: 9000 })).toBe(false);
  });

  it("finds the API server's own address at install time", async () => {
    const kubeconfig = inject('adminKubeconfig');
    const config = kubeConfigFrom(kubeconfig);
    const discovery = config.makeApiClient(k8s.DiscoveryV1Api);
    // The test control plane runs without the API server's endpoint reconciler
    // (--endpoint-reconciler-type=none): write the slice it writes on a cluster.
    await discovery.createNamespacedEndpointSlice({
      namespace: 'default',
      body: {
        metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['172.18.0.2'] }],
        ports: [{ name: 'https', port: 6444, protocol: 'TCP' }],
      },
    });
    try {
      const service = await config
        .makeApiClient(k8s.CoreV1Api)
        .readNamespacedService({ name: 'kubernetes', namespace: 'default' });
      // --dry-run=server: lookup reads the cluster, as helm install does.
      const manifests = await render([], ['--dry-run=server', '--kubeconfig', kubeconfig]);
      const policies = policiesOf(manifests);
      const pods = podsOf(manifests);
      for (const component of ['download', 'api', 'operator']) {
        const pod = pods[component] as Pod;
        expect(allowed(policies, { from: pod, to: apiServer, port: 6444 }), component).toBe(true);
        expect(allowed(policies, { from: pod, to: apiServer, port: 22 }), component).toBe(false);
        expect(allowed(policies, { from: pod, to: { ip: '172.18.0.3' }, port: 6444 }), component).toBe(false);
        expect(
          allowed(policies, { from: pod, to: { ip: service.spec?.clusterIP as string }, port: 443 }),
        ).toBe(true);
      }
    } finally {
      await discovery.deleteNamespacedEndpointSlice({ name: 'kubernetes', namespace: 'default' });
    }
  });
});

describe('the Ingress of the chart', () => {
  let paths: Array<{ path: string; pathType: 'Exact' | 'Prefix' }>;
  // The Ingress path rules: Exact is the whole path; Prefix matches by path element.
  const routed = (path: string) =>
    paths.some((p) =>
      p.pathType === 'Exact'
        ? path === p.path
        : p.path === '/' || path === p.path || path.startsWith(`${p.path.replace(/\/$/, '')}/`),
    );

  beforeAll(async () => {
    const ingress = (await render(['api.ingress.enabled=true'])).find((m) => m.kind === 'Ingress');
    paths = (
      ingress as unknown as { spec: { rules: Array<{ http: { paths: typeof paths } }> } }
    ).spec.rules.flatMap((r) => r.http.paths);
  });

  it.each(['/metrics', '/metrics/', '/healthz', '/readyz', '/metricsx'])(
    'keeps %s off the Ingress',
    (path) => {
      expect(routed(path)).toBe(false);
    },
  );

  it.each([
    '/',
    '/web/app.js',
    '/openapi.json',
    '/download',
    '/downloads',
    '/downloads/dl-abc',
    '/status/dl-abc',
    '/status/dl-abc/events',
    '/result/dl-abc',
    '/ws',
  ])('routes %s', (path) => {
    expect(routed(path)).toBe(true);
  });
});

describe('disk of every pod', () => {
  it('gives every container of the chart and of a download Job an ephemeral-storage request and limit', async () => {
    const manifests = await render(['api.ingress.enabled=true']);
    const specs = [
      ...manifests.flatMap((m) =>
        m.kind === 'Deployment'
          ? [[m.metadata.name, (m.spec as { template: { spec: k8s.V1PodSpec } }).template.spec] as const]
          : m.kind === 'Pod'
            ? [[m.metadata.name, m.spec as unknown as k8s.V1PodSpec] as const]
            : [],
      ),
      ['download Job', downloadJob().spec?.template.spec as k8s.V1PodSpec] as const,
      ['volume cleanup Job', volumeCleanupJobOf().spec?.template.spec as k8s.V1PodSpec] as const,
    ];
    expect(specs.length).toBe(7);
    for (const [name, spec] of specs) {
      for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect(
          container.resources?.requests?.['ephemeral-storage'],
          `${name}/${container.name}`,
        ).toBeTruthy();
        expect(container.resources?.limits?.['ephemeral-storage'], `${name}/${container.name}`).toBeTruthy();
      }
    }
  });
});

describe('kube-score on the rendered chart and a download Job', () => {
  interface Check {
    check: { id: string };
    grade: number;
    skipped: boolean;
    comments?: Array<{ summary: string }>;
  }
  let scored: Array<{ object_name: string; type_meta: { kind: string }; checks: Check[] }>;

  beforeAll(async () => {
    const manifests = await render(['api.ingress.enabled=true']);
    const yaml = [...manifests, downloadJob(), volumeCleanupJobOf()]
      .map((m) => JSON.stringify(m))
      .join('\n---\n');
    // kube-score exits 1 when anything is critical; its JSON is what is read.
    const output = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        toolPath('kube-score'),
        ['score', '--output-format', 'json', '-'],
        { maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) =>
          stdout ? resolve(stdout) : reject(new Error(`kube-score: ${stderr || error?.message}`)),
      );
      child.stdin?.end(yaml);
    });
    scored = JSON.parse(output);
  });

  // Grades: 1 critical, 5 warning, 7 almost OK, 10 OK.
  it.each([
    'pod-networkpolicy',
    'networkpolicy-targets-pod',
    'container-ephemeral-storage-request-and-limit',
  ])('finds nothing wrong in %s', (id) => {
    const results = scored.flatMap((object) =>
      object.checks
        .filter((c) => c.check.id === id && !c.skipped)
        .map((c) => ({
          object: `${object.type_meta.kind}/${object.object_name}`,
          grade: c.grade,
          comments: c.comments,
        })),
    );
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.grade < 10)).toEqual([]);
  });
});
