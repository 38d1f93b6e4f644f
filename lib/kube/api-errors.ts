// The HTTP status of a failed Kubernetes API call: client-node's generated
// APIs put it in "code", its Watch in "statusCode".
export function statusCodeOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

/**
 * A write refused because it named a resourceVersion the server has moved
 * past (409 Conflict; not 409 AlreadyExists, which a create gets).
 */
export function isConflict(error: unknown): boolean {
  if (statusCodeOf(error) !== 409) return false;
  const e = error as { body?: unknown; message?: unknown };
  return !/AlreadyExists|already exists/.test(`${String(e.body ?? '')} ${String(e.message ?? '')}`);
}
