// An HTTP client for the vdl API in tests that checks every response
// against the generated OpenAPI document: the status must be documented for
// the route, and a JSON body must match its schema.
import Ajv2020 from 'ajv/dist/2020.js';
import { openApiDocument } from '../../api/openapi.ts';

type Operation = { responses: Record<string, { content?: Record<string, { schema: unknown }> }> };

const document = openApiDocument() as { paths: Record<string, Record<string, Operation>> };
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: false, allErrors: true });
ajv.addSchema({ ...(document as object), $id: 'openapi' });

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export class ApiClient {
  readonly base: string;
  readonly key: string | undefined;
  /** Every (method, route, status) this client saw, for the coverage check. */
  static readonly seen = new Set<string>();

  constructor(base: string, key?: string) {
    this.base = base;
    this.key = key;
  }

  as(key: string | undefined): ApiClient {
    return new ApiClient(this.base, key);
  }

  async call<T = Record<string, unknown>>(
    method: string,
    route: string,
    options: {
      params?: Record<string, string>;
      query?: string;
      body?: unknown;
      rawBody?: string;
      headers?: Record<string, string>;
      redirect?: 'manual';
    } = {},
  ): Promise<ApiResponse<T>> {
    const path = route.replace(/\{(\w+)\}/g, (_m, name: string) =>
      encodeURIComponent(options.params?.[name] ?? ''),
    );
    const headers: Record<string, string> = {
      ...(this.key ? { authorization: `Bearer ${this.key}` } : {}),
      ...options.headers,
    };
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.base}${path}${options.query ? `?${options.query}` : ''}`, {
      method,
      headers,
      body,
      redirect: options.redirect ?? 'follow',
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type')?.split(';')[0] ?? '';
    let parsed: unknown = text;
    if (contentType.endsWith('json')) parsed = JSON.parse(text);
    this.check(method.toLowerCase(), route, response.status, contentType, parsed);
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  private check(method: string, route: string, status: number, contentType: string, body: unknown): void {
    ApiClient.seen.add(`${method} ${route} ${status}`);
    const operation = document.paths[route]?.[method];
    if (!operation) throw new Error(`${method.toUpperCase()} ${route} is not in the OpenAPI document`);
    const response = operation.responses[String(status)];
    if (!response)
      throw new Error(
        `${method.toUpperCase()} ${route} answered ${status}, which the OpenAPI document does not list`,
      );
    const media = response.content?.[contentType];
    if (!media) {
      if (response.content && contentType.endsWith('json')) {
        throw new Error(
          `${method.toUpperCase()} ${route} ${status} answered ${contentType}, not ${Object.keys(response.content)}`,
        );
      }
      return;
    }
    const ref = (media.schema as { $ref?: string }).$ref;
    if (!ref) return;
    const validate = ajv.getSchema(`openapi${ref}`);
    if (!validate) throw new Error(`no schema ${ref}`);
    if (!validate(body)) {
      throw new Error(
        `${method.toUpperCase()} ${route} ${status} does not match ${ref}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
      );
    }
  }
}
