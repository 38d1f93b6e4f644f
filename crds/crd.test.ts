import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartCrdTemplate, crdFile, renderChartCrdTemplate, renderCrdYaml } from './generate.ts';
import { toStructuralSchema } from './structural-schema.ts';
import { VideoDownloadSpec } from './video-download.ts';

describe('generated CRD', () => {
  it('is current: run `make generate` after changing crds/video-download.ts', () => {
    expect(readFileSync(crdFile, 'utf8')).toBe(renderCrdYaml());
  });

  it("is current in the Helm chart's templates", () => {
    expect(readFileSync(chartCrdTemplate, 'utf8')).toBe(renderChartCrdTemplate());
  });

  it('has the same schema in the chart as in the plain file', () => {
    // The template's lines without template actions are the CRD but its metadata.
    const template = renderChartCrdTemplate()
      .split('\n')
      .filter((line) => !line.includes('{{'))
      .join('\n');
    expect(parse(template).spec).toEqual(parse(renderCrdYaml()).spec);
  });

  it('describes every field, so kubectl explain teaches', () => {
    const undescribed: string[] = [];
    const walk = (schema: Record<string, unknown>, path: string) => {
      if (path !== '$.metadata' && typeof schema.description !== 'string') undescribed.push(path);
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [name, child] of Object.entries(properties)) walk(child, `${path}.${name}`);
      if (schema.items) walk(schema.items as Record<string, unknown>, `${path}[]`);
    };
    const crd = renderCrdYaml();
    const schema = parse(crd).spec.versions[0].schema.openAPIV3Schema;
    walk(schema, '$');
    // List items that are plain strings are described by their list.
    expect(undescribed.filter((path) => !path.endsWith('.languages[]'))).toEqual([]);
  });
});

describe('toStructuralSchema', () => {
  it('drops what a CRD cannot hold and keeps what it can', () => {
    expect(
      toStructuralSchema({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        additionalProperties: false,
        properties: {
          n: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          u: { type: 'string', format: 'uri' },
          t: { type: 'string', format: 'date-time', pattern: '^long$' },
          x: { type: 'number', exclusiveMinimum: 0 },
        },
      }),
    ).toEqual({
      type: 'object',
      properties: {
        n: { type: 'integer', minimum: 0 },
        u: { type: 'string' },
        t: { type: 'string', format: 'date-time' },
        x: { type: 'number', minimum: 0, exclusiveMinimum: true },
      },
    });
  });

  it('refuses keywords it cannot carry over, naming where they are', () => {
    expect(() => toStructuralSchema({ type: 'object', properties: { a: { anyOf: [] } } })).toThrow(
      /\$\.a: .*"anyOf"/,
    );
    expect(() => toStructuralSchema({ properties: {} })).toThrow(/needs a type/);
  });
});

describe('VideoDownloadSpec', () => {
  const valid = VideoDownloadSpec.safeParse;
  it.each([
    ['http URL', { url: 'http://example.com/v.mp4' }],
    [
      'https URL with options',
      { url: 'https://example.com/watch?v=1', format: { preset: '720p' }, retries: 0 },
    ],
    ['format selector', { url: 'https://e.com/v', format: { selector: 'bv*[height<=1080]+ba/b' } }],
    ['audio', { url: 'https://e.com/v', audio: { extract: true, format: 'mp3', quality: '192K' } }],
    ['limits', { url: 'https://e.com/v', limits: { maxFileSize: '1.5Gi', deadlineSeconds: 600 } }],
  ])('accepts %s', (_name, spec) => {
    expect(valid(spec).success).toBe(true);
  });

  it.each([
    ['a missing URL', {}],
    ['a file URL', { url: 'file:///etc/passwd' }],
    ['an ftp URL', { url: 'ftp://example.com/v.mp4' }],
    ['a javascript URL', { url: 'javascript:alert(1)' }],
    ['an unknown preset', { url: 'https://e.com/v', format: { preset: '4k' } }],
    ['a selector with spaces', { url: 'https://e.com/v', format: { selector: 'b --exec rm' } }],
    ['a selector that starts like a flag', { url: 'https://e.com/v', format: { selector: '-x' } }],
    ['a template with a directory', { url: 'https://e.com/v', output: { filenameTemplate: '../../etc/x' } }],
    ['the stdout template "-"', { url: 'https://e.com/v', output: { filenameTemplate: '-' } }],
    ['the template ".."', { url: 'https://e.com/v', output: { filenameTemplate: '..' } }],
    ['the template "."', { url: 'https://e.com/v', output: { filenameTemplate: '.' } }],
    ['an absolute template', { url: 'https://e.com/v', output: { filenameTemplate: '/etc/x' } }],
    ['negative retries', { url: 'https://e.com/v', retries: -1 }],
    ['a huge deadline', { url: 'https://e.com/v', limits: { deadlineSeconds: 10_000_000 } }],
    ['a malformed size', { url: 'https://e.com/v', limits: { maxFileSize: '1 GB' } }],
  ])('rejects %s', (_name, spec) => {
    expect(valid(spec).success).toBe(false);
  });

  it('fills defaults the way the API server does', () => {
    expect(VideoDownloadSpec.parse({ url: 'https://e.com/v' })).toMatchObject({
      format: { preset: 'best' },
      audio: { extract: false, format: 'best' },
      subtitles: { languages: [], autoCaptions: false, embed: false },
      output: { filenameTemplate: '%(title)s [%(id)s].%(ext)s' },
      retries: 2,
      storage: { deletionPolicy: 'Delete' },
    });
  });
});
