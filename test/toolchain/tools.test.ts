import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MissingToolError,
  moduleCrds,
  parseVersionsEnv,
  prometheusOperatorCrds,
  toolPath,
  versions,
} from './tools.ts';

describe('parseVersionsEnv', () => {
  it('reads KEY=value lines and ignores comments and blanks', () => {
    expect(parseVersionsEnv('# comment\nA_B=1.2.3\n\n  C=v4 \nnot a line\n')).toEqual({
      A_B: '1.2.3',
      C: 'v4',
    });
  });

  it('gives every version the install script needs', () => {
    for (const key of [
      'NODE_VERSION',
      'KUBERNETES_VERSION',
      'ETCD_VERSION',
      'MINIO_VERSION',
      'HELM_VERSION',
      'SCHEMATHESIS_VERSION',
      'YT_DLP_VERSION',
      'CLI_UTILS_VERSION',
      'PROMETHEUS_VERSION',
      'PROMETHEUS_OPERATOR_VERSION',
    ]) {
      expect(versions[key], key).toMatch(/^v?\d/);
    }
  });
});

describe('the downloader image', () => {
  it('pins the yt-dlp version the tests install', () => {
    const dockerfile = readFileSync(new URL('../../images/downloader/Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toMatch(
      new RegExp(`^ARG YT_DLP_VERSION=${(versions.YT_DLP_VERSION ?? '').replaceAll('.', '\\.')}$`, 'm'),
    );
  });
});

describe('the kstatus program', () => {
  it('requires the cli-utils release versions.env pins', () => {
    const goMod = readFileSync(new URL('./kstatus/go.mod', import.meta.url), 'utf8');
    expect(goMod).toMatch(new RegExp(`^\\s*sigs\\.k8s\\.io/cli-utils ${versions.CLI_UTILS_VERSION}$`, 'm'));
  });
});

describe('toolPath', () => {
  it('names the missing tool and the command that installs it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'vdl-no-tools-'));
    expect(() => toolPath('kube-apiserver', empty)).toThrow(MissingToolError);
    expect(() => toolPath('kube-apiserver', empty)).toThrow(/install-tools\.sh kubernetes/);
    expect(() => toolPath('etcd', empty)).toThrow(new RegExp(`etcd-${versions.ETCD_VERSION}`));
    expect(() => toolPath('promtool', empty)).toThrow(/install-tools\.sh promtool/);
    expect(() => prometheusOperatorCrds(empty)).toThrow(/install-tools\.sh prometheus-crds/);
    expect(() => moduleCrds('gateway-crds', empty)).toThrow(/install-tools\.sh gateway-crds/);
  });
});
