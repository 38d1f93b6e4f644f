// How every program reads its configuration: one zod schema over the
// environment, parsed once at start; a bad value is reported by its variable.
import { z } from 'zod';

/** A field's variable: prefix, then the path in upper snake case (requests.cpu → VDL_REQUESTS_CPU). */
export function envName(prefix: string, path: readonly PropertyKey[]): string {
  return (
    prefix +
    path
      .map((key) =>
        String(key)
          .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
          .toUpperCase(),
      )
      .join('_')
  );
}

/** The object schema inside a field's default or optional, if the field is an object. */
function objectShape(field: unknown): z.ZodRawShape | undefined {
  let inner: unknown = field;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault || inner instanceof z.ZodOptional)
    inner = inner.unwrap();
  return inner instanceof z.ZodObject ? inner.shape : undefined;
}

/** Every variable a schema reads, with the field it fills (an object field is one variable a member). */
export function envVariables(
  shape: z.ZodRawShape,
  prefix: string,
  path: string[] = [],
): Array<{ name: string; path: string[] }> {
  return Object.entries(shape).flatMap(([key, field]) => {
    const nested = objectShape(field);
    return nested
      ? envVariables(nested, prefix, [...path, key])
      : [{ name: envName(prefix, [...path, key]), path: [...path, key] }];
  });
}

/** A whole number from its variable's text. */
export const envInteger = z.coerce.number().int();

/** A yes/no variable: true for exactly these words, false for any other text. */
export function envFlag(...yes: string[]) {
  return z.preprocess((value) => (typeof value === 'string' ? yes.includes(value) : value), z.boolean());
}

export interface EnvOptions<Schema extends z.ZodObject> {
  /** Named in the error: "invalid operator configuration". */
  program: string;
  /** Put before each field's name: "VDL_API_". */
  prefix?: string;
  /** Below the environment: defaults that depend on it (the host name). */
  defaults?: Partial<z.input<Schema>>;
  /** Above the environment: what a test sets. */
  overrides?: Partial<z.input<Schema>>;
}

/**
 * The schema's fields from their variables; an empty variable is an unset
 * one (a chart's empty value). Throws one line per bad variable.
 */
export function parseEnv<Schema extends z.ZodObject>(
  schema: Schema,
  env: Record<string, string | undefined>,
  { program, prefix = '', defaults = {}, overrides = {} }: EnvOptions<Schema>,
): z.output<Schema> {
  const raw: Record<string, unknown> = { ...defaults };
  for (const { name, path } of envVariables(schema.shape, prefix)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let target = raw;
    for (const key of path.slice(0, -1)) {
      target[key] = { ...(target[key] as object) };
      target = target[key] as Record<string, unknown>;
    }
    target[path.at(-1) as string] = value;
  }
  const parsed = schema.safeParse({ ...raw, ...overrides });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length > 0 ? `${envName(prefix, issue.path)}: ${issue.message}` : issue.message,
  );
  throw new Error(`invalid ${program} configuration: ${problems.join('; ')}`);
}
