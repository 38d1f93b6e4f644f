// The info JSON is the download's permanent record, readable by whoever may
// read the result. yt-dlp writes the cookies it sent (a format's "cookies"
// field, a "Cookie" request header) into it: they are a login, so they go.

/** The info JSON without cookies anywhere in it. */
export function withoutCookies(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutCookies);
  if (value === null || typeof value !== 'object') return value;
  const kept: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'cookies' || key.toLowerCase() === 'cookie') continue;
    kept[key] = withoutCookies(inner);
  }
  return kept;
}
