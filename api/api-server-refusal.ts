// When the API server refuses a VideoDownload the API let through, the
// client learns which fields, in our own words: the API server's Status
// (its messages quote values and schema internals) is never passed on.

interface StatusCause {
  reason?: string;
  field?: string;
}

// metav1.CauseType values an admission or schema refusal carries.
const wordsFor: Record<string, string> = {
  FieldValueRequired: 'is required',
  FieldValueInvalid: 'is invalid',
  FieldValueNotSupported: 'is not a supported value',
  FieldValueTooLong: 'is too long',
  FieldValueTooMany: 'has too many items',
  FieldValueDuplicate: 'is duplicated',
  FieldValueForbidden: 'may not be set',
  FieldValueTypeInvalid: 'has the wrong type',
};

// A field path as the client wrote it: the body is the spec, so "spec." goes.
function clientField(field: string): string {
  return field
    .replace(/^spec\./, '')
    .replace(/[^A-Za-z0-9_.[\]-]/g, '')
    .slice(0, 100);
}

/** The detail of our own 422 for an API server refusal (the body of its error, if any). */
export function apiServerRefusal(body: unknown): string {
  let causes: StatusCause[] = [];
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as {
      details?: { causes?: StatusCause[] };
    };
    causes = Array.isArray(status?.details?.causes) ? status.details.causes : [];
  } catch {
    causes = [];
  }
  const fields = causes
    .filter((cause) => typeof cause.field === 'string' && cause.field !== '')
    .slice(0, 10)
    .map((cause) => `${clientField(cause.field as string)} ${wordsFor[cause.reason ?? ''] ?? 'is invalid'}`);
  // In a fixed order: the API server's order of causes is no contract.
  const unique = [...new Set(fields)].sort();
  return unique.length > 0
    ? `the cluster refused the download: ${unique.join('; ')}`
    : 'the cluster refused the download';
}
