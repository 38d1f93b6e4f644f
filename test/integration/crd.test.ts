// The real API server accepts the generated CRD, applies its defaults and
// rejects invalid VideoDownloads before any controller sees them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestNamespace, deleteNamespace, kubeConfigFrom } from '../support/kube.ts';
import { Downloads, installCrd } from '../support/vdl.ts';
import { toolPath } from '../toolchain/tools.ts';

const run = promisify(execFile);
const config = kubeConfigFrom(inject('adminKubeconfig'));
let namespace: string;
let downloads: Downloads;

beforeAll(async () => {
  await installCrd(config);
  namespace = await createTestNamespace(config, 'crd');
  downloads = new Downloads(config, namespace);
});
afterAll(async () => {
  await deleteNamespace(config, namespace);
});

describe('VideoDownload CRD on the API server', () => {
  it('accepts a minimal download and fills in the defaults', async () => {
    const created = await downloads.create('minimal', { url: 'https://example.com/watch?v=1' });
    expect(created.spec).toMatchObject({
      url: 'https://example.com/watch?v=1',
      retries: 2,
      format: { preset: 'best' },
      storage: { deletionPolicy: 'Delete' },
      output: { filenameTemplate: '%(title)s [%(id)s].%(ext)s' },
    });
  });

  it.each([
    ['a file URL (the CEL rule)', { url: 'file:///etc/passwd' }, /url must be an http or https URL/],
    [
      'an unknown preset',
      { url: 'https://e.com/v', format: { preset: '4k' } },
      /spec.format.preset: Unsupported value/,
    ],
    [
      'a selector that could be a flag',
      { url: 'https://e.com/v', format: { selector: '--exec=x' } },
      /spec.format.selector/,
    ],
    ['negative retries', { url: 'https://e.com/v', retries: -1 }, /spec.retries/],
    [
      'the stdout template "-" (the CEL rule)',
      { url: 'https://e.com/v', output: { filenameTemplate: '-' } },
      /spec.output.filenameTemplate: Invalid value.*filenameTemplate must not be .*-.* \(stdout\)/,
    ],
    [
      'the template ".."',
      { url: 'https://e.com/v', output: { filenameTemplate: '..' } },
      /spec.output.filenameTemplate: Invalid value.*filenameTemplate must not be/,
    ],
    [
      'an absolute template',
      { url: 'https://e.com/v', output: { filenameTemplate: '/etc/x' } },
      /spec.output.filenameTemplate/,
    ],
    ['no URL', {}, /spec.url: Required value/],
    [
      'a cover in WebM (the CEL rule across fields)',
      { url: 'https://e.com/v', embed: { thumbnail: true }, output: { container: 'webm' } },
      /embed.thumbnail: a WebM file cannot hold a thumbnail/,
    ],
    [
      'a cover in wav audio (the CEL rule across fields)',
      { url: 'https://e.com/v', embed: { thumbnail: true }, audio: { extract: true, format: 'wav' } },
      /embed.thumbnail: wav and aac audio files cannot hold a thumbnail/,
    ],
    [
      'a clip that ends before it starts (the CEL rule)',
      { url: 'https://e.com/v', clip: { startSeconds: 9, endSeconds: 3 } },
      /spec.clip: Invalid value.*clip.endSeconds must be after clip.startSeconds/,
    ],
    [
      'a SponsorBlock category that cannot be cut',
      { url: 'https://e.com/v', sponsorBlock: { remove: ['chapter'] } },
      /spec.sponsorBlock.remove\[0\]: Unsupported value/,
    ],
  ])('rejects %s', async (_name, spec, message) => {
    const attempt = downloads.create(`bad-${Math.random().toString(36).slice(2, 8)}`, spec as never);
    await expect(attempt).rejects.toMatchObject({ code: 422 });
    await attempt.catch((error: { body?: string }) => expect(String(error.body)).toMatch(message));
  });

  it.each([
    ['a backslash in the URL', { url: 'http://example.com\\@127.0.0.1:18777/clip.mp4' }, /spec.url/],
    ['a NUL byte in the URL', { url: 'https://e.com/a\u0000b' }, /spec.url/],
    [
      'a TTL over 30 days',
      { url: 'https://e.com/v', ttlSecondsAfterFinished: 3_000_000 },
      /spec.ttlSecondsAfterFinished/,
    ],
    [
      'a maxFileSize of 400 digits',
      { url: 'https://e.com/v', limits: { maxFileSize: '9'.repeat(400) } },
      /spec.limits.maxFileSize/,
    ],
    [
      'a keyPrefix of ../',
      { url: 'https://e.com/v', storage: { keyPrefix: '../' } },
      /spec.storage.keyPrefix/,
    ],
  ])('rejects %s applied past the API, naming the field', async (_name, spec, message) => {
    const attempt = downloads.create(`bad-${Math.random().toString(36).slice(2, 8)}`, spec as never);
    await expect(attempt).rejects.toMatchObject({ code: 422 });
    await attempt.catch((error: { body?: string }) => expect(String(error.body)).toMatch(message));
  });

  it('accepts post-processing the file can hold, with its defaults filled in', async () => {
    // A server-side dry run: defaulted and validated by the API server, stored nowhere.
    const created = (await config.makeApiClient(k8s.CustomObjectsApi).createNamespacedCustomObject({
      group: 'vdl.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'videodownloads',
      dryRun: 'All',
      body: {
        apiVersion: 'vdl.dev/v1alpha1',
        kind: 'VideoDownload',
        metadata: { name: 'post-processed' },
        spec: {
          url: 'https://e.com/v',
          embed: { thumbnail: true },
          clip: { endSeconds: 90 },
          sponsorBlock: { mark: ['poi_highlight'] },
        },
      },
    })) as { spec: object };
    expect(created.spec).toMatchObject({
      embed: { metadata: false, thumbnail: true, chapters: false },
      clip: { startSeconds: 0, endSeconds: 90, exactCuts: false },
      sponsorBlock: { remove: [], mark: ['poi_highlight'] },
    });
  });

  it('keeps spec immutable once created', async () => {
    const objects = config.makeApiClient(k8s.CustomObjectsApi);
    const patch = objects.patchNamespacedCustomObject(
      {
        group: 'vdl.dev',
        version: 'v1alpha1',
        plural: 'videodownloads',
        namespace,
        name: 'minimal',
        body: { spec: { retries: 5 } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await expect(patch).rejects.toMatchObject({ code: 422 });
  });

  it('teaches through kubectl explain and is reachable by its short name and category', async () => {
    const kubectl = toolPath('kubectl');
    const kubeconfig = inject('adminKubeconfig');
    const explain = await run(kubectl, ['--kubeconfig', kubeconfig, 'explain', 'videodownload.spec.format']);
    expect(explain.stdout).toContain('Which of the formats the site offers to download.');
    expect(explain.stdout).toMatch(/preset\s+<string>/);
    const byShortName = await run(kubectl, [
      '--kubeconfig',
      kubeconfig,
      '-n',
      namespace,
      'get',
      'vd',
      '-o',
      'name',
    ]);
    expect(byShortName.stdout.trim()).toBe('videodownload.vdl.dev/minimal');
    const byCategory = await run(kubectl, [
      '--kubeconfig',
      kubeconfig,
      '-n',
      namespace,
      'get',
      'vdl',
      '-o',
      'name',
    ]);
    expect(byCategory.stdout.trim()).toBe('videodownload.vdl.dev/minimal');
  });
});
