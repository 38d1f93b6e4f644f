// Turns the JSON Schema that zod writes (draft 2020-12) into the structural
// OpenAPI v3 subset that a CRD accepts. Anything it does not know how to
// carry over is an error, so a new zod feature cannot silently weaken the CRD.
export type JsonSchema = { [key: string]: unknown };

const carriedOver = new Set([
  'type',
  'description',
  'default',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'required',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
]);

// Formats the API server validates; others would be silently ignored by it,
// so they are dropped here and enforced by pattern or CEL instead.
const keptFormats = new Set(['date-time']);

export function toStructuralSchema(schema: JsonSchema, path = '$'): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' || key === 'additionalProperties') continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, child]) => [
          name,
          toStructuralSchema(child, `${path}.${name}`),
        ]),
      );
    } else if (key === 'items') {
      out.items = toStructuralSchema(value as JsonSchema, `${path}[]`);
    } else if (key === 'format') {
      if (keptFormats.has(value as string)) out.format = value;
    } else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      // 2020-12 gives the bound; OpenAPI v3.0 gives a flag beside minimum/maximum.
      out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
      out[key] = true;
    } else if (carriedOver.has(key)) {
      out[key] = value;
    } else {
      throw new Error(`${path}: JSON Schema keyword "${key}" has no structural-schema equivalent`);
    }
  }
  // zod bounds every int by Number.MAX_SAFE_INTEGER; it says nothing to a reader.
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  // date-time is checked by its format; zod's long regex only adds noise.
  if (out.format === 'date-time') delete out.pattern;
  if (out.type === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new Error(`${path}: a structural schema needs a type at every level`);
  }
  return out;
}
