// The HTTP status of a failed Kubernetes API call: client-node's generated
// APIs put it in "code", its Watch in "statusCode".
export function statusCodeOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}
