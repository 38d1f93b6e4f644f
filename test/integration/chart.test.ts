// The Helm chart: lint, render several value combinations, apply every
// rendered manifest to the real API server (server-side dry-run) in a
// namespace that enforces the restricted Pod Security Standard, and check
// each service account's permissions with kubectl auth can-i.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { loadOperatorConfig } from '../../operator/config.ts';
import { desiredJob } from '../../operator/controllers/video-download/desired-job.ts';
import { chart, helm, type Manifest, renderChart, renderChartText } from '../support/chart-render.ts';
import { eventually } from '../support/eventually.ts';
import { createNamespace, deleteNamespace, kubeConfigFrom, uniqueName } from '../support/kube.ts';
import { installCrd } from '../support/vdl.ts';
import { moduleCrds, toolPath } from '../toolchain/tools.ts';

const kubeconfig = inject('adminKubeconfig');
const config = kubeConfigFrom(kubeconfig);
let namespace: string;

async function kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      toolPath('kubectl'),
      ['--kubeconfig', kubeconfig, ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || error.message}`))
          : resolve({ stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

const render = (values: string[] = []) => renderChartText(namespace, values);

beforeAll(async () => {
  await installCrd(config);
  // The HTTPRoute (api.httpRoute) needs the Gateway API's CRD, as a cluster with Gateway API has it.
  // Server-side: the CRD is larger than client-side apply's annotation may be.
  await kubectl(['apply', '--server-side', ...moduleCrds('gateway-crds').flatMap((file) => ['-f', file])]);
  await eventually('the HTTPRoute CRD established', async () => {
    const { stdout } = await kubectl([
      'get',
      'crd/httproutes.gateway.networking.k8s.io',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Established")].status}',
    ]);
    return stdout === 'True' ? true : undefined;
  });
  namespace = uniqueName('chart');
  // The chart's test pod uses the default service account, which createNamespace waits for.
  await createNamespace(config, namespace, {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/warn': 'restricted',
  });
});
afterAll(async () => {
  await deleteNamespace(config, namespace);
});

describe('the vdl chart', () => {
  it('passes helm lint --strict', async () => {
    expect(await helm(['lint', '--strict', chart])).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it.each([
    ['default values', []],
    [
      'external S3',
      [
        'minio.enabled=false',
        's3.endpoint=https://s3.example.com',
        's3.existingSecret=my-s3',
        'networkPolicy.s3CIDRs={203.0.113.0/24}',
      ],
    ],
    ['cluster-wide watching', ['operator.clusterWide=true']],
    [
      'an ingress with TLS',
      ['api.ingress.enabled=true', 'api.ingress.host=vdl.example.com', 'api.ingress.tlsSecret=vdl-tls'],
    ],
    [
      'an ingress with cert-manager annotations, a TLS list and its own paths',
      [
        'api.ingress.enabled=true',
        'api.ingress.className=nginx',
        'api.ingress.annotations.cert-manager\\.io/cluster-issuer=letsencrypt',
        'api.ingress.tls[0].hosts[0]=vdl.example.com',
        'api.ingress.tls[0].secretName=vdl-example-tls',
        'api.ingress.paths[0].path=/',
        'api.ingress.paths[0].pathType=Prefix',
      ],
    ],
    [
      'a Gateway API HTTPRoute',
      [
        'api.httpRoute.enabled=true',
        'api.httpRoute.parentRefs[0].name=public',
        'api.httpRoute.parentRefs[0].namespace=gateways',
        'api.httpRoute.parentRefs[0].sectionName=https',
        'api.httpRoute.hostnames[0]=vdl.example.com',
        'api.httpRoute.annotations.example\\.com/team=media',
      ],
    ],
    ['helm test of the CRD path', ['tests.downloadUrl=http://10.96.200.200:8080/progressive.mp4']],
    [
      'single replicas, no PDB, no NetworkPolicy',
      ['operator.replicas=1', 'api.replicas=1', 'networkPolicy.enabled=false'],
    ],
    ['a closed API server rule', ['networkPolicy.apiServerCIDRs={172.18.0.2/32}']],
  ])(
    'renders %s into manifests the API server accepts, restricted pod security included',
    async (_name, values) => {
      const manifests = await render(values);
      const kinds = parseAllDocuments(manifests)
        .map((d) => (d.toJSON() as { kind?: string } | null)?.kind)
        .filter(Boolean);
      expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ServiceAccount']));
      // A pod is admitted only once its ServiceAccount exists (helm test creates the
      // download test's first, by hook weight), which a dry run of both does not do.
      const accounts = parseAllDocuments(manifests)
        .map((d) => d.toJSON() as { kind?: string } | null)
        .filter((o) => o?.kind === 'ServiceAccount');
      await kubectl(
        ['apply', '-n', namespace, '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: accounts }),
      );
      const { stderr } = await kubectl(['apply', '--dry-run=server', '-n', namespace, '-f', '-'], manifests);
      expect(stderr).not.toMatch(/violate PodSecurity/);
    },
  );

  it('routes the same public paths through the Ingress and the HTTPRoute, with their annotations and TLS', async () => {
    const objects = await renderChart(namespace, [
      'api.ingress.enabled=true',
      'api.ingress.tlsSecret=vdl-tls',
      'api.ingress.annotations.cert-manager\\.io/cluster-issuer=letsencrypt',
      'api.ingress.tls[0].hosts[0]=other.example.com',
      'api.ingress.tls[0].secretName=other-tls',
      'api.httpRoute.enabled=true',
      'api.httpRoute.parentRefs[0].name=public',
    ]);
    const ingress = objects.find((o) => o.kind === 'Ingress') as unknown as k8s.V1Ingress;
    const route = objects.find((o) => o.kind === 'HTTPRoute') as unknown as {
      spec: {
        parentRefs: unknown[];
        rules: Array<{ matches: Array<{ path: { type: string; value: string } }> }>;
      };
    };
    expect(ingress.metadata?.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    // The short api.ingress.tlsSecret keeps working beside the list.
    expect(ingress.spec?.tls).toEqual([
      { hosts: ['vdl.example.com'], secretName: 'vdl-tls' },
      { hosts: ['other.example.com'], secretName: 'other-tls' },
    ]);
    const ingressPaths = ingress.spec?.rules?.[0]?.http?.paths.map((p) => `${p.pathType} ${p.path}`);
    const routePaths = route.spec.rules[0]?.matches.map(
      (m) => `${m.path.type === 'PathPrefix' ? 'Prefix' : m.path.type} ${m.path.value}`,
    );
    expect(routePaths).toEqual(ingressPaths);
    expect(ingressPaths).toContain('Prefix /downloads');
    expect(ingressPaths?.some((p) => p.includes('metrics'))).toBe(false);
    expect(route.spec.parentRefs).toEqual([{ name: 'public' }]);
  });

  it.each([
    ['by default, kept on uninstall', [], 'keep'],
    ['with crds.keep=false, deleted on uninstall', ['crds.keep=false'], undefined],
  ])('templates the CRD %s, so helm upgrade updates it', async (_name, values, policy) => {
    const crds = (await renderChart(namespace, values)).filter((d) => d.kind === 'CustomResourceDefinition');
    expect(crds.map((crd) => crd.metadata.name)).toEqual(['videodownloads.vdl.dev']);
    const metadata = crds[0]?.metadata as { annotations?: Record<string, string> } | undefined;
    expect(metadata?.annotations?.['helm.sh/resource-policy']).toBe(policy);
  });

  it('leaves the CRD to you with crds.install=false', async () => {
    const kinds = (await renderChart(namespace, ['crds.install=false'])).map((d) => d.kind);
    expect(kinds).not.toContain('CustomResourceDefinition');
    expect(kinds).toContain('Deployment');
  });

  it('makes download Jobs that meet the restricted Pod Security Standard', async () => {
    const job = desiredJob(
      {
        apiVersion: 'vdl.dev/v1alpha1',
        kind: 'VideoDownload',
        metadata: { name: 'psa', namespace, uid: '00000000-0000-0000-0000-000000000001' },
        spec: VideoDownloadSpec.parse({ url: 'https://example.com/v' }),
      },
      loadOperatorConfig({}),
    );
    delete job.metadata?.ownerReferences;
    const { stderr } = await kubectl(
      ['apply', '--dry-run=server', '-n', namespace, '-f', '-'],
      JSON.stringify(job),
    );
    expect(stderr).not.toMatch(/violate PodSecurity/);
  });

  it.each([
    ['operator.replicas=0', /replicas/],
    ['image.pullPolicy=Sometimes', /pullPolicy/],
    ['networkPolicy.apiServerCIDRs={not-a-cidr}', /apiServerCIDRs/],
    ['downloader.workDirSizeLimit=lots', /workDirSizeLimit/],
    ['surprise=1', /surprise/],
    ['tests.downloadUrl=ftp://example.com/v', /downloadUrl/],
    ['api.httpRoute.enabled=true', /parentRefs must name the Gateway/],
    ['api.ingress.paths[0].path=web', /path/],
    ['api.ingress.tls[0].hosts[0]=vdl.example.com', /secretName/],
    ['minio.enabled=false', /s3.existingSecret is required|s3.endpoint is required/],
  ])('refuses the bad value %s', async (value, message) => {
    await expect(render([value])).rejects.toThrow(message);
  });
});

// A cluster's own settings (issue 22, point 3): every one of them at once.
const zone = 'topology.kubernetes.io/zone';
const clusterSettings = (priorityClass: string) => {
  const workload = (component: string) => ({
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'vdl', effect: 'NoSchedule' }],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: 'kubernetes.io/hostname',
              labelSelector: { matchLabels: { 'app.kubernetes.io/component': component } },
            },
          },
        ],
      },
    },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: zone,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { 'app.kubernetes.io/component': component } },
      },
    ],
    priorityClassName: priorityClass,
    podAnnotations: { 'example.com/owner': 'media' },
    podLabels: { tier: component },
    extraEnv: [{ name: 'EXTRA_SETTING', value: component }],
    extraVolumes: [{ name: 'extra', configMap: { name: 'vdl-extra' } }],
    extraVolumeMounts: [{ name: 'extra', mountPath: '/extra', readOnly: true }],
  });
  return {
    nameOverride: 'video',
    fullnameOverride: 'media-vdl',
    commonLabels: { team: 'media' },
    imagePullSecrets: [{ name: 'regcred' }],
    image: {
      digests: {
        operator: `sha256:${'a'.repeat(64)}`,
        api: `sha256:${'b'.repeat(64)}`,
        downloader: `sha256:${'c'.repeat(64)}`,
      },
    },
    // As on OpenShift, whose restricted SCC picks the UID.
    podSecurityContext: { runAsUser: null, runAsGroup: null, fsGroup: null },
    operator: workload('operator'),
    api: workload('api'),
    minio: workload('minio'),
    downloader: {
      podTemplate: {
        nodeSelector: { 'vdl.example.com/downloads': 'true' },
        tolerations: [{ key: 'downloads', operator: 'Exists', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
        topologySpreadConstraints: [{ maxSkew: 2, topologyKey: zone, whenUnsatisfiable: 'ScheduleAnyway' }],
        priorityClassName: priorityClass,
        imagePullPolicy: 'Always',
        podLabels: { 'cost-center': 'video' },
        podAnnotations: { 'example.com/cost': 'video' },
      },
    },
    extraObjects: [
      {
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name: priorityClass },
        value: 1000,
      },
      `apiVersion: v1
kind: ConfigMap
metadata:
  name: vdl-extra
  namespace: {{ .Release.Namespace }}
  labels: {{ include "vdl.labels" . | nindent 4 }}
data:
  release: {{ .Release.Name | quote }}`,
    ],
  };
};

interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    nodeSelector?: Record<string, string>;
    priorityClassName?: string;
    imagePullSecrets?: unknown[];
    securityContext?: Record<string, unknown>;
    containers: Array<{ name: string; image: string; env?: Array<{ name: string; value?: string }> }>;
    volumes?: Array<{ name: string }>;
  };
}
type Selector = { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
const matchLabelsOf = (manifest: Manifest | undefined, field: string) =>
  (manifest?.spec?.[field] as Selector | undefined)?.matchLabels;
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);

describe("the vdl chart with a cluster's own settings", () => {
  let text: string;
  let manifests: Manifest[];
  let priorityClass: string;
  const deployment = (component: string) => {
    const found = manifests.find(
      (m) => m.kind === 'Deployment' && m.metadata.name === `media-vdl-${component}`,
    );
    if (!found) throw new Error(`no Deployment media-vdl-${component}`);
    return found as Manifest & { spec: { selector: Selector; template: PodTemplate } };
  };

  beforeAll(async () => {
    priorityClass = `${namespace}-downloads`;
    const file = join(mkdtempSync(join(tmpdir(), 'vdl-values-')), 'values.yaml');
    writeFileSync(file, stringify(clusterSettings(priorityClass)));
    text = await renderChartText(namespace, [], ['-f', file]);
    manifests = parseAllDocuments(text)
      .map((d) => d.toJSON() as Manifest | null)
      .filter((m): m is Manifest => Boolean(m?.kind));
  });
  afterAll(async () => {
    await kubectl(['delete', 'priorityclass', priorityClass, '--ignore-not-found']);
  });

  it('renders them into manifests the API server accepts, restricted pod security included', async () => {
    // Pods (the helm test's) need their PriorityClass to exist, as after a real install of extraObjects.
    const priority = manifests.find((m) => m.kind === 'PriorityClass');
    await kubectl(['apply', '-f', '-'], JSON.stringify(priority));
    const { stderr } = await kubectl(['apply', '--dry-run=server', '-n', namespace, '-f', '-'], text);
    expect(stderr).not.toMatch(/violate PodSecurity/);
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(
      expect.arrayContaining([`PriorityClass/${priorityClass}`, 'ConfigMap/vdl-extra']),
    );
  });

  it.each(['operator', 'api', 'minio'])('puts them on the %s pods', (component) => {
    const { metadata, spec } = deployment(component).spec.template;
    expect(metadata.labels).toMatchObject({
      tier: component,
      team: 'media',
      'app.kubernetes.io/name': 'video',
      'app.kubernetes.io/managed-by': 'Helm',
      'app.kubernetes.io/component': component,
    });
    expect(metadata.annotations?.['example.com/owner']).toBe('media');
    expect(spec).toMatchObject({
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated' }],
      affinity: { podAntiAffinity: {} },
      topologySpreadConstraints: [{ topologyKey: zone }],
      priorityClassName: priorityClass,
      imagePullSecrets: [{ name: 'regcred' }],
    });
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const [container] = spec.containers;
    expect(container?.env).toContainEqual({ name: 'EXTRA_SETTING', value: component });
    expect(spec.volumes?.map((v) => v.name)).toContain('extra');
    if (component !== 'minio')
      expect(container?.image).toMatch(new RegExp(`/${component}@sha256:[a-f0-9]{64}$`));
  });

  it("gives the hook pods (uninstall drain, helm test) the pull secrets and their image's placement", () => {
    const drain = manifests.find(
      (m) => m.kind === 'Job' && m.metadata.name === 'media-vdl-uninstall-drain',
    ) as (Manifest & { spec: { template: PodTemplate } }) | undefined;
    expect(drain?.spec.template.spec).toMatchObject({
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      priorityClassName: priorityClass,
      imagePullSecrets: [{ name: 'regcred' }],
    });
    const test = manifests.find((m) => m.kind === 'Pod' && m.metadata.name === 'media-vdl-test-api-ready');
    expect(test?.spec).toMatchObject({
      tolerations: [{ key: 'dedicated' }],
      imagePullSecrets: [{ name: 'regcred' }],
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    });
  });

  it('keeps every selector on its pods, free of commonLabels, podLabels and nameOverride', () => {
    for (const component of ['operator', 'api', 'minio']) {
      const { selector, template } = deployment(component).spec;
      expect(Object.keys(selector.matchLabels ?? {}).sort()).toEqual([
        'app.kubernetes.io/component',
        'app.kubernetes.io/instance',
        'app.kubernetes.io/part-of',
      ]);
      expect(selects(selector.matchLabels, template.metadata.labels)).toBe(true);
    }
    const podsOf = (selector: Record<string, string> | undefined) =>
      ['operator', 'api', 'minio'].filter((c) =>
        selects(selector, deployment(c).spec.template.metadata.labels),
      );
    const services = manifests.filter((m) => m.kind === 'Service');
    expect(services.map((s) => podsOf(s.spec?.selector as Record<string, string>))).toEqual(
      expect.arrayContaining([['api'], ['minio']]),
    );
    const budgets = manifests.filter((m) => m.kind === 'PodDisruptionBudget');
    expect(budgets.map((b) => podsOf(matchLabelsOf(b, 'selector')))).toEqual([['operator'], ['api']]);
    const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
    for (const component of ['operator', 'api', 'minio'])
      expect(
        policies.filter((p) => podsOf(matchLabelsOf(p, 'podSelector')).includes(component)),
      ).toHaveLength(1);
  });

  it('gives download Jobs the pod template, through the operator, as the API server accepts them', async () => {
    const env = deployment('operator').spec.template.spec.containers[0]?.env ?? [];
    const variables = Object.fromEntries(
      env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]),
    );
    const operatorConfig = loadOperatorConfig(variables);
    const job = desiredJob(
      {
        apiVersion: 'vdl.dev/v1alpha1',
        kind: 'VideoDownload',
        metadata: { name: 'placed', namespace, uid: '00000000-0000-0000-0000-000000000002' },
        spec: VideoDownloadSpec.parse({ url: 'https://example.com/v' }),
      },
      operatorConfig,
    );
    const pod = job.spec?.template;
    expect(pod?.spec).toMatchObject({
      nodeSelector: { 'vdl.example.com/downloads': 'true' },
      tolerations: [{ key: 'downloads', operator: 'Exists' }],
      topologySpreadConstraints: [{ maxSkew: 2 }],
      priorityClassName: priorityClass,
      // The chart's pull secrets, as downloader.podTemplate names none.
      imagePullSecrets: [{ name: 'regcred' }],
    });
    expect(pod?.spec?.containers[0]).toMatchObject({
      image: expect.stringMatching(/\/downloader@sha256:c{64}$/),
      imagePullPolicy: 'Always',
    });
    expect(pod?.metadata?.labels).toMatchObject({
      'cost-center': 'video',
      'app.kubernetes.io/component': 'downloader',
    });
    // The chart's NetworkPolicy for download pods still selects them.
    const downloads = manifests.find(
      (m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'media-vdl-downloads',
    );
    expect(selects(matchLabelsOf(downloads, 'podSelector'), pod?.metadata?.labels ?? {})).toBe(true);
    delete job.metadata?.ownerReferences;
    const { stderr } = await kubectl(
      ['apply', '--dry-run=server', '-n', namespace, '-f', '-'],
      JSON.stringify(job),
    );
    expect(stderr).not.toMatch(/violate PodSecurity/);
  });

  it('pulls download images by the chart pull policy unless the pod template names one', async () => {
    const config = (values: string[]) =>
      renderChart(namespace, values).then((items) => {
        const operator = items.find((m) => m.kind === 'Deployment' && m.metadata.name === 'vdl-operator') as
          | (Manifest & { spec: { template: PodTemplate } })
          | undefined;
        const env = operator?.spec.template.spec.containers[0]?.env ?? [];
        return loadOperatorConfig({
          VDL_DOWNLOAD_POD_TEMPLATE: env.find((e) => e.name === 'VDL_DOWNLOAD_POD_TEMPLATE')?.value,
        }).downloadPodTemplate;
      });
    expect(await config([])).toEqual({ imagePullPolicy: 'IfNotPresent' });
    expect(await config(['image.pullPolicy=Always'])).toEqual({ imagePullPolicy: 'Always' });
    expect(await config(['image.pullPolicy=Always', 'downloader.podTemplate.imagePullPolicy=Never'])).toEqual(
      {
        imagePullPolicy: 'Never',
      },
    );
  });

  it.each([
    ['commonLabels.app\\.kubernetes\\.io/component=x', /commonLabels|propertyName/],
    ['operator.podLabels.vdl\\.dev/download=x', /podLabels|propertyName/],
    ['downloader.podTemplate.securityContext.runAsUser=0', /securityContext/],
    ['downloader.podTemplate.serviceAccountName=admin', /serviceAccountName/],
    ['image.digests.api=latest', /digests/],
    ['api.tolerations[0].operator=Maybe', /operator/],
  ])('refuses %s', async (value, message) => {
    await expect(render([value])).rejects.toThrow(message);
  });
});

// "resource:subresource" asks about a subresource; "resource/name" about one object.
async function canAs(user: string, verb: string, resource: string, where = namespace): Promise<boolean> {
  const [target, subresource] = resource.split(':');
  const extra = subresource ? [`--subresource=${subresource}`] : [];
  // can-i prints yes (exit 0) or no (exit 1); anything else is a failure of the test, not a "no".
  const answer = await new Promise<string>((resolve, reject) => {
    execFile(
      toolPath('kubectl'),
      [
        '--kubeconfig',
        kubeconfig,
        'auth',
        'can-i',
        verb,
        target as string,
        '--as',
        user,
        '-n',
        where,
        ...extra,
      ],
      (error, stdout, stderr) => {
        const said = stdout.trim();
        if (said === 'yes' || said === 'no') resolve(said);
        else reject(new Error(`kubectl auth can-i failed: ${stderr || error?.message}`));
      },
    );
  });
  return answer === 'yes';
}

describe('RBAC of the chart', () => {
  const sa = (name: string) => `system:serviceaccount:${namespace}:vdl-${name}`;
  const can = (who: string, verb: string, resource: string) => canAs(sa(who), verb, resource);

  beforeAll(async () => {
    const rbac = (await renderChart(namespace)).filter((d) =>
      ['ServiceAccount', 'Role', 'RoleBinding'].includes(d.kind),
    );
    await kubectl(
      ['apply', '-n', namespace, '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }),
    );
  });

  it.each([
    ['operator', 'watch', 'videodownloads.vdl.dev'],
    ['operator', 'patch', 'videodownloads.vdl.dev:status'],
    ['operator', 'delete', 'videodownloads.vdl.dev'],
    ['operator', 'create', 'jobs.batch'],
    ['operator', 'delete', 'jobs.batch'],
    ['operator', 'watch', 'pods'],
    ['operator', 'create', 'events'],
    // A webhook's signing key, read when its event is sent.
    ['operator', 'get', 'secrets'],
    ['operator', 'update', 'leases.coordination.k8s.io/vdl-operator'],
    ['operator', 'update', 'videodownloads.vdl.dev:finalizers'],
    ['api', 'create', 'videodownloads.vdl.dev'],
    ['api', 'watch', 'videodownloads.vdl.dev'],
    ['api', 'delete', 'videodownloads.vdl.dev'],
    ['api', 'get', 'secrets/vdl-api-keys'],
    ['api', 'update', 'configmaps'],
    ['api', 'create', 'configmaps'],
    ['downloader', 'patch', 'videodownloads.vdl.dev:status'],
    ['uninstall-drain', 'patch', 'deployments.apps/vdl-operator:scale'],
    ['uninstall-drain', 'patch', 'videodownloads.vdl.dev:status'],
    ['uninstall-drain', 'delete', 'jobs.batch'],
    ['uninstall-drain', 'list', 'pods'],
  ])('lets the %s %s %s', async (who, verb, resource) => {
    expect(await can(who, verb, resource)).toBe(true);
  });

  it.each([
    // get only: no Secret is cached or listed.
    ['operator', 'list', 'secrets'],
    ['operator', 'watch', 'secrets'],
    ['operator', 'update', 'secrets'],
    ['operator', 'create', 'pods'],
    ['operator', 'update', 'videodownloads.vdl.dev'],
    ['operator', 'update', 'leases.coordination.k8s.io/someone-else'],
    ['operator', 'create', 'videodownloads.vdl.dev'],
    ['api', 'get', 'secrets/other-secret'],
    ['api', 'list', 'secrets'],
    ['api', 'patch', 'videodownloads.vdl.dev:status'],
    ['api', 'patch', 'videodownloads.vdl.dev'],
    ['api', 'create', 'jobs.batch'],
    ['api', 'list', 'pods'],
    ['api', 'list', 'configmaps'],
    ['api', 'watch', 'configmaps'],
    ['api', 'patch', 'configmaps'],
    ['api', 'delete', 'configmaps'],
    ['downloader', 'get', 'videodownloads.vdl.dev'],
    ['downloader', 'update', 'videodownloads.vdl.dev:status'],
    ['api', 'update', 'videodownloads.vdl.dev:status'],
    ['downloader', 'patch', 'videodownloads.vdl.dev'],
    ['downloader', 'delete', 'videodownloads.vdl.dev'],
    ['downloader', 'get', 'secrets'],
    ['downloader', 'create', 'pods'],
    ['downloader', 'list', 'configmaps'],
    ['uninstall-drain', 'patch', 'deployments.apps/vdl-api:scale'],
    ['uninstall-drain', 'patch', 'deployments.apps/vdl-operator'],
    ['uninstall-drain', 'create', 'jobs.batch'],
    ['uninstall-drain', 'delete', 'videodownloads.vdl.dev'],
    ['uninstall-drain', 'delete', 'pods'],
    ['uninstall-drain', 'get', 'secrets'],
  ])('does not let the %s %s %s', async (who, verb, resource) => {
    expect(await can(who, verb, resource)).toBe(false);
  });
});

it('grants the operator no Secret reads with operator.webhooks.enabled=false', async () => {
  const role = (await renderChart(namespace, ['operator.webhooks.enabled=false'])).find(
    (d) => d.kind === 'Role' && d.metadata.name === 'vdl-operator',
  ) as unknown as { rules: Array<{ resources: string[]; verbs: string[] }> };
  expect(role.rules.filter((rule) => rule.resources.includes('secrets'))).toEqual([
    expect.objectContaining({ verbs: ['create'] }),
  ]);
});

describe('VideoDownloads for people (ClusterRoles aggregated into view, edit and admin)', () => {
  const editor = 'alice@example.com';
  const viewer = 'bob@example.com';
  let roles: string[] = [];

  beforeAll(async () => {
    const clusterRoles = (await renderChart(namespace)).filter(
      (d) =>
        d.kind === 'ClusterRole' &&
        Object.keys(d.metadata.labels ?? {}).some((l) =>
          l.startsWith('rbac.authorization.k8s.io/aggregate-to-'),
        ),
    );
    roles = clusterRoles.map((role) => role.metadata.name);
    // None when rbac.aggregateToDefaultRoles is off (kubectl refuses an empty apply).
    if (roles.length > 0)
      await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: clusterRoles }),
      );
    // People get the built-in roles, as a cluster admin grants them; nothing of vdl's is bound.
    for (const [user, role] of [
      [editor, 'edit'],
      [viewer, 'view'],
    ] as const)
      await kubectl([
        'create',
        'rolebinding',
        `${role}-${user.split('@')[0]}`,
        '-n',
        namespace,
        `--clusterrole=${role}`,
        `--user=${user}`,
      ]);
    // The clusterrole-aggregation controller (kube-controller-manager) copies the rules in a moment later.
    await eventually('the aggregated rules in the built-in roles', async () =>
      (await canAs(editor, 'create', 'videodownloads.vdl.dev')) &&
      (await canAs(viewer, 'list', 'videodownloads.vdl.dev'))
        ? true
        : undefined,
    );
  });
  afterAll(async () => {
    if (roles.length > 0) await kubectl(['delete', 'clusterrole', ...roles, '--ignore-not-found']);
  });

  it('renders none with rbac.aggregateToDefaultRoles=false', async () => {
    const kinds = (await renderChart(namespace, ['rbac.aggregateToDefaultRoles=false'])).map((d) => d.kind);
    expect(kinds).not.toContain('ClusterRole');
  });

  const vd = 'videodownloads.vdl.dev';
  it.each([
    [editor, 'create', vd, 'yes'],
    [editor, 'list', vd, 'yes'],
    [editor, 'get', vd, 'yes'],
    [editor, 'delete', vd, 'yes'],
    [editor, 'deletecollection', vd, 'yes'],
    [viewer, 'get', vd, 'yes'],
    [viewer, 'list', vd, 'yes'],
    [viewer, 'watch', vd, 'yes'],
    [viewer, 'create', vd, 'no'],
    [viewer, 'delete', vd, 'no'],
    [viewer, 'patch', vd, 'no'],
    // The status is the operator's and the download pods', never a person's.
    [editor, 'patch', `${vd}:status`, 'no'],
    [editor, 'update', `${vd}:status`, 'no'],
    [viewer, 'patch', `${vd}:status`, 'no'],
  ])('asked whether %s may %s %s, says %s', async (user, verb, resource, answer) => {
    expect(await canAs(user, verb, resource)).toBe(answer === 'yes');
  });
});

describe('operator.downloadNamespaces (with clusterWide)', () => {
  let other: string;
  beforeAll(async () => {
    other = uniqueName('chart-downloads');
    await createNamespace(config, other, { 'pod-security.kubernetes.io/enforce': 'restricted' });
  });
  afterAll(async () => {
    if (other) await deleteNamespace(config, other);
  });

  it("gives each listed namespace the downloader identity, its Role and the download pods' NetworkPolicy", async () => {
    const objects = await renderChart(namespace, [
      'operator.clusterWide=true',
      `operator.downloadNamespaces={${other},${namespace}}`,
      'networkPolicy.apiServerCIDRs={172.18.0.2/32}',
    ]);
    const there = objects.filter((o) => o.metadata.namespace === other);
    expect(there.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual([
      'NetworkPolicy vdl-downloads',
      'NetworkPolicy vdl-volume-cleanup',
      'Role vdl-downloader',
      'RoleBinding vdl-downloader',
      'ServiceAccount vdl-downloader',
    ]);
    // The release namespace is listed too, yet has its objects once.
    expect(
      objects.filter((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'vdl-downloader'),
    ).toHaveLength(2);
    // The copy is the release namespace's policy, in the other namespace.
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'vdl-downloads');
    expect(policies[1]?.spec).toEqual(policies[0]?.spec);
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: there }));
    const downloader = `system:serviceaccount:${other}:vdl-downloader`;
    expect(await canAs(downloader, 'patch', 'videodownloads.vdl.dev:status', other)).toBe(true);
    expect(await canAs(downloader, 'get', 'videodownloads.vdl.dev', other)).toBe(false);
    expect(await canAs(downloader, 'get', 'secrets', other)).toBe(false);
  });

  it('refuses them without clusterWide, where the operator would never look there', async () => {
    await expect(render([`operator.downloadNamespaces={${other}}`])).rejects.toThrow(
      /needs operator.clusterWide/,
    );
  });
});
