// The CustomResourceDefinition of VideoDownload, built from the zod schemas.
import { z } from 'zod';
import { type JsonSchema, toStructuralSchema } from './structural-schema.ts';
import {
  crossFieldRules,
  group,
  kind,
  plural,
  VideoDownloadSpec,
  VideoDownloadStatus,
  version,
} from './video-download.ts';

function schemaOf(schema: z.ZodType): JsonSchema {
  return toStructuralSchema(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as JsonSchema);
}

/**
 * What the schema says of defaults and bounds, appended to each field's
 * description: `kubectl explain` prints descriptions, not defaults or bounds.
 */
export function withDefaultsAndBounds(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, JsonSchema>).map(([name, child]) => [
        name,
        withDefaultsAndBounds(child),
      ]),
    );
  }
  if (out.items) out.items = withDefaultsAndBounds(out.items as JsonSchema);
  const said: string[] = [];
  // An empty object or list as default says nothing a reader needs: its fields carry their own.
  const trivial = (value: unknown) =>
    typeof value === 'object' && value !== null && Object.keys(value).length === 0;
  if (out.default !== undefined && !trivial(out.default))
    said.push(`Default: ${JSON.stringify(out.default)}.`);
  const range = (low: unknown, high: unknown, lowWord: string, highWord: string, unit = '') => {
    const bound = (word: string, n: unknown) =>
      n === undefined ? undefined : `${word} ${n}${unit && ` ${unit}${n === 1 ? '' : 's'}`}`;
    const parts = [bound(lowWord, low), bound(highWord, high)].filter(Boolean);
    if (parts.length > 0) {
      const text = parts.join(', ');
      said.push(`${text.charAt(0).toUpperCase()}${text.slice(1)}.`);
    }
  };
  if (out.type === 'integer' || out.type === 'number') {
    range(
      out.minimum,
      out.maximum,
      out.exclusiveMinimum ? 'greater than' : 'minimum',
      out.exclusiveMaximum ? 'less than' : 'maximum',
    );
  }
  if (out.type === 'string') range(out.minLength, out.maxLength, 'at least', 'at most', 'character');
  if (out.type === 'array') range(out.minItems, out.maxItems, 'at least', 'at most', 'item');
  if (said.length > 0) {
    out.description = [out.description, ...said].filter((text) => typeof text === 'string').join(' ');
  }
  return out;
}

export function videoDownloadCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${group}`,
      labels: { 'app.kubernetes.io/part-of': 'vdl' },
    },
    spec: {
      group,
      scope: 'Namespaced',
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: 'videodownload',
        shortNames: ['vd'],
        categories: ['vdl'],
      },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            {
              name: 'Phase',
              type: 'string',
              jsonPath: '.status.phase',
              description: 'Where the download is.',
            },
            {
              name: 'Progress',
              type: 'string',
              jsonPath: '.status.progress.percent',
              description: 'Overall progress in percent.',
            },
            {
              name: 'Title',
              type: 'string',
              jsonPath: '.status.progress.title',
              description: 'Title of the video, once known.',
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            {
              name: 'URL',
              type: 'string',
              jsonPath: '.spec.url',
              priority: 1,
              description: 'What is downloaded.',
            },
            {
              name: 'Reason',
              type: 'string',
              jsonPath: '.status.reason',
              priority: 1,
              description: 'Why it failed.',
            },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'A video to download: vdl runs yt-dlp in a Job, stores the file in S3-compatible storage and reports progress and the result in status.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'vdl.dev/v1alpha1' },
                kind: { type: 'string', description: 'VideoDownload' },
                metadata: { type: 'object' },
                spec: {
                  ...withDefaultsAndBounds(schemaOf(VideoDownloadSpec)),
                  'x-kubernetes-validations': [
                    {
                      rule: 'self == oldSelf',
                      message: 'spec is immutable: create a new VideoDownload instead',
                    },
                    ...crossFieldRules.map(({ rule, message }) => ({ rule, message })),
                  ],
                },
                status: schemaOf(VideoDownloadStatus),
              },
            },
          },
        },
      ],
    },
  };
}
