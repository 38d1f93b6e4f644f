// Which methods a path allows, read from the OpenAPI document, so a known
// path asked with another method answers 405 with Allow (RFC 9110) instead
// of pretending the path does not exist.
type Paths = Record<string, Record<string, unknown>>;

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function templateToPattern(template: string): RegExp {
  const escaped = template
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}$`);
}

/** The methods the document lists for the path (GET implies HEAD), or undefined for an unknown path. */
export function allowedMethods(paths: Paths, pathname: string): string[] | undefined {
  const template = Object.keys(paths).find((candidate) => templateToPattern(candidate).test(pathname));
  if (template === undefined) return undefined;
  const listed = Object.keys(paths[template] ?? {}).filter((key) => methods.includes(key));
  if (listed.includes('get') && !listed.includes('head')) listed.push('head');
  return listed.map((method) => method.toUpperCase());
}
