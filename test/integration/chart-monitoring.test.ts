// The chart's monitoring objects: the ServiceMonitors, PodMonitors and the
// PrometheusRule applied (server-side dry-run) to the real API server with
// prometheus-operator's own CRDs installed, so their schemas judge them; the
// rules checked and unit-tested by promtool (series that fire each alert and
// series that must not, test/integration/monitoring/vdl-rules.test.yaml); and
// the Grafana dashboard parsed, every query of it checked by promtool and
// naming only metrics the operator and the API really register.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { ApiMetrics } from '../../api/metrics.ts';
import { videoDownloadMetrics } from '../../operator/controllers/video-download/metrics.ts';
import { createManagerMetrics } from '../../operator/manager/metrics.ts';
import { type Manifest, renderChart, renderChartText } from '../support/chart-render.ts';
import { createNamespace, deleteNamespace, kubeConfigFrom, uniqueName } from '../support/kube.ts';
import { prometheusOperatorCrds, toolPath } from '../toolchain/tools.ts';

const run = promisify(execFile);
const kubeconfig = inject('adminKubeconfig');
const config = kubeConfigFrom(kubeconfig);
const rulesTest = fileURLToPath(new URL('./monitoring/vdl-rules.test.yaml', import.meta.url));
// The unit tests' series carry this namespace, as ServiceMonitor targets do.
const rulesNamespace = 'vdl';
let namespace: string;

async function kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const child = run(toolPath('kubectl'), ['--kubeconfig', kubeconfig, ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  try {
    return await child;
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`kubectl ${args.join(' ')}: ${stderr || error}`);
  }
}

async function promtool(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(toolPath('promtool'), args);
    return stdout + stderr;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

const everything = [
  'monitoring.serviceMonitor.enabled=true',
  'monitoring.serviceMonitor.labels.release=kube-prometheus-stack',
  'monitoring.prometheusRule.enabled=true',
  'monitoring.grafanaDashboard.enabled=true',
];

const ofKind = (manifests: Manifest[], kind: string) => manifests.filter((item) => item.kind === kind);

/** Every metric name the operator and the API register, with a histogram's _bucket, _sum and _count. */
async function registeredMetricNames(): Promise<Set<string>> {
  const manager = createManagerMetrics();
  videoDownloadMetrics(manager.registry);
  const names = new Set<string>();
  for (const registry of [manager.registry, new ApiMetrics().registry]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (String(metric.type) === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    }
  }
  return names;
}

/** The metric names a PromQL expression reads: each selector's name, and every vdl_/process_/nodejs_ word. */
function metricsIn(expr: string): string[] {
  const selectors = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((match) => match[1] as string);
  const words = [...expr.matchAll(/\b((?:vdl|process|nodejs)_[a-zA-Z0-9_:]*)/g)].map((m) => m[1] as string);
  return [...new Set([...selectors, ...words])];
}

interface DashboardPanel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
}

beforeAll(async () => {
  // prometheus-operator's CRDs as its release ships them (make tools fetched
  // them from the Go module proxy), so its schemas validate what the chart renders.
  for (const file of prometheusOperatorCrds()) {
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', file]);
  }
  for (const crd of ['servicemonitors', 'podmonitors', 'prometheusrules']) {
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      `crd/${crd}.monitoring.coreos.com`,
    ]);
  }
  namespace = uniqueName('monitoring');
  await createNamespace(config, namespace);
});
afterAll(async () => {
  await deleteNamespace(config, namespace);
  for (const crd of ['servicemonitors', 'podmonitors', 'prometheusrules']) {
    await kubectl(['delete', '--ignore-not-found', `crd/${crd}.monitoring.coreos.com`]).catch(() => {});
  }
});

describe('the chart monitoring toggles', () => {
  it('render the operator metrics Service by default, and nothing of prometheus-operator or Grafana', async () => {
    const manifests = await renderChart(namespace);
    const service = ofKind(manifests, 'Service').find((s) => s.metadata.name === 'vdl-operator-metrics');
    expect(service?.spec).toMatchObject({
      selector: { 'app.kubernetes.io/component': 'operator' },
      ports: [{ name: 'metrics', port: 8080, targetPort: 'metrics' }],
    });
    for (const kind of ['ServiceMonitor', 'PodMonitor', 'PrometheusRule']) {
      expect(ofKind(manifests, kind), kind).toEqual([]);
    }
    expect(ofKind(manifests, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard)).toEqual([]);
  });

  it('render ServiceMonitors, a PrometheusRule and a dashboard that the API server accepts under the prometheus-operator CRDs', async () => {
    const manifests = await renderChart(namespace, everything);
    const monitors = ofKind(manifests, 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(['vdl-api', 'vdl-operator']);
    for (const monitor of monitors) {
      expect(monitor.metadata.labels?.release).toBe('kube-prometheus-stack');
      // Each selects exactly one of the chart's Services, on a port that Service has.
      const spec = monitor.spec as {
        selector: { matchLabels: Record<string, string> };
        endpoints: Array<{ port: string; interval: string }>;
      };
      const selector = spec.selector.matchLabels;
      const endpoint = spec.endpoints[0];
      const services = ofKind(manifests, 'Service').filter((service) =>
        Object.entries(selector).every(([key, value]) => service.metadata.labels?.[key] === value),
      );
      expect(services, monitor.metadata.name).toHaveLength(1);
      const ports = ((services[0]?.spec ?? {}) as { ports: Array<{ name: string }> }).ports.map(
        (p) => p.name,
      );
      expect(ports).toContain(endpoint?.port);
      expect(endpoint?.interval).toBe('30s');
    }
    const { stdout } = await kubectl(
      ['apply', '--dry-run=server', '-n', namespace, '-f', '-'],
      await renderChartText(namespace, everything),
    );
    expect(stdout).toMatch(/servicemonitor.monitoring.coreos.com\/vdl-operator created \(server dry run\)/);
    expect(stdout).toMatch(/prometheusrule.monitoring.coreos.com\/vdl created \(server dry run\)/);
    expect(stdout).toMatch(/configmap\/vdl-dashboard created \(server dry run\)/);
  });

  it('render PodMonitors the API server accepts, and refuse them together with ServiceMonitors', async () => {
    const values = ['monitoring.podMonitor.enabled=true', 'monitoring.podMonitor.scrapeTimeout=10s'];
    const monitors = ofKind(await renderChart(namespace, values), 'PodMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(['vdl-api', 'vdl-operator']);
    const { stdout } = await kubectl(
      ['apply', '--dry-run=server', '-n', namespace, '-f', '-'],
      await renderChartText(namespace, values),
    );
    expect(stdout).toMatch(/podmonitor.monitoring.coreos.com\/vdl-api created \(server dry run\)/);
    await expect(
      renderChartText(namespace, [...values, 'monitoring.serviceMonitor.enabled=true']),
    ).rejects.toThrow(/enable one of them/);
  });

  it('is checked by the CRD schemas for real: a ServiceMonitor with a bad interval is refused', async () => {
    const [monitor] = ofKind(await renderChart(namespace, everything), 'ServiceMonitor');
    const broken = structuredClone(monitor) as Manifest;
    (broken.spec?.endpoints as Array<{ interval: string }>)[0] = { interval: 'soon' } as never;
    await expect(
      kubectl(['apply', '--dry-run=server', '-n', namespace, '-f', '-'], JSON.stringify(broken)),
    ).rejects.toThrow(/interval/);
  });

  it.each([
    ['monitoring.serviceMonitor.interval=soon', /interval/],
    ['monitoring.prometheusRule.failedRatio=2', /failedRatio/],
    ['monitoring.serviceMonitor.labels.team=1', /team/],
  ])('refuse the bad value %s', async (value, message) => {
    await expect(renderChartText(namespace, [value])).rejects.toThrow(message);
  });
});

describe('the PrometheusRule', () => {
  let dir: string;
  let groups: Array<{ name: string; rules: Array<Record<string, unknown>> }>;

  beforeAll(async () => {
    const [rule] = ofKind(
      await renderChart(rulesNamespace, ['monitoring.prometheusRule.enabled=true']),
      'PrometheusRule',
    );
    groups = ((rule?.spec ?? {}) as { groups: typeof groups }).groups;
    dir = mkdtempSync(join(tmpdir(), 'vdl-rules-'));
    writeFileSync(join(dir, 'full.yaml'), stringify({ groups }));
    // The unit tests compare labels only; the annotations' templates are checked by check rules.
    const withoutAnnotations = groups.map((group) => ({
      ...group,
      rules: group.rules.map(({ annotations: _, ...rule }) => rule),
    }));
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: withoutAnnotations }));
    copyFileSync(rulesTest, join(dir, 'vdl-rules.test.yaml'));
  });

  it('passes promtool check rules, annotations and all', async () => {
    expect(await promtool(['check', 'rules', join(dir, 'full.yaml')])).toMatch(/SUCCESS: 6 rules found/);
  });

  it('fires each alert on the series that mean it, and not on the ones that do not (promtool test rules)', async () => {
    const alerts = groups.flatMap((group) => group.rules.map((rule) => rule.alert));
    expect(alerts).toEqual([
      'VdlDownloadsFailing',
      'VdlDownloadsWaitingLong',
      'VdlQueueLong',
      'VdlOperatorNoLeader',
      'VdlReconcileErrors',
      'VdlApiErrors',
    ]);
    expect(await promtool(['test', 'rules', join(dir, 'vdl-rules.test.yaml')])).toMatch(/SUCCESS/);
  });

  it('reads only metrics the operator and the API register, in the release namespace', async () => {
    const known = await registeredMetricNames();
    for (const rule of groups.flatMap((group) => group.rules)) {
      const expr = String(rule.expr);
      const names = metricsIn(expr);
      expect(names.length, String(rule.alert)).toBeGreaterThan(0);
      for (const name of names) expect(known, `${rule.alert} reads ${name}`).toContain(name);
      for (const selector of expr.matchAll(/\{([^}]*)\}/g))
        expect(selector[1], String(rule.alert)).toContain(`namespace="${rulesNamespace}"`);
    }
  });
});

describe('the Grafana dashboard', () => {
  let dashboard: { title: string; uid: string; panels: DashboardPanel[] };
  let configMap: Manifest & { data?: Record<string, string> };

  beforeAll(async () => {
    configMap = ofKind(await renderChart(namespace, everything), 'ConfigMap').find(
      (item) => item.metadata.name === 'vdl-dashboard',
    ) as typeof configMap;
    dashboard = JSON.parse(configMap.data?.['vdl.json'] ?? '');
  });

  it('is a ConfigMap the kube-prometheus-stack sidecar picks up, holding JSON that parses', () => {
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1');
    expect(dashboard).toMatchObject({ title: 'vdl', uid: 'vdl-overview' });
    expect(dashboard.panels.filter((panel) => panel.type !== 'row').length).toBeGreaterThan(10);
  });

  it('queries only metrics the operator and the API register, in PromQL promtool parses', async () => {
    const known = await registeredMetricNames();
    const queries = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr })),
    );
    expect(queries.length).toBeGreaterThan(10);
    for (const { title, expr } of queries) {
      const names = metricsIn(expr);
      expect(names.length, title).toBeGreaterThan(0);
      for (const name of names) expect(known, `${title} reads ${name}`).toContain(name);
    }
    // Each query as a recording rule, with Grafana's variable filled in, so promtool parses it.
    const dir = mkdtempSync(join(tmpdir(), 'vdl-dashboard-'));
    const rules = queries.map(({ expr }, index) => ({
      record: `vdl_dashboard:query_${index}`,
      expr: expr.replaceAll('$namespace', rulesNamespace),
    }));
    writeFileSync(join(dir, 'queries.yaml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
    expect(await promtool(['check', 'rules', join(dir, 'queries.yaml')])).toMatch(
      new RegExp(`SUCCESS: ${queries.length} rules found`),
    );
  });
});
