import type { Server } from 'node:http';
import { createApp } from '../../api/app.ts';
import { DEFAULT_API_LIMITS, type ApiLimits } from '../../schema/config.ts';
import type { DatabaseHandle } from '../../schema/database.ts';

// The API over real HTTP on 127.0.0.1, in the test's process, with helpers for GraphQL requests and
// multipart uploads (the GraphQL multipart request specification).

export type GqlResponse<T = Record<string, any>> = { status: number; data?: T; errors?: { message: string; extensions?: { code?: string } }[]; headers: Headers };

export async function startApi(handle: DatabaseHandle, limits: ApiLimits = { ...DEFAULT_API_LIMITS, rateLimitPerMinute: 0, maxUploadBytes: 5 * 1024 * 1024 }) {
  const app = createApp(handle, limits);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  async function gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, options: { key?: string; headers?: Record<string, string> } = {}): Promise<GqlResponse<T>> {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), ...options.headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json() as { data?: T; errors?: GqlResponse['errors'] };
    return { status: response.status, data: body.data ?? undefined, errors: body.errors, headers: response.headers };
  }

  /** Sends files to the `upload` mutation; `fields` adds the mutation's other arguments. */
  async function upload(files: { name: string; content: Buffer | string }[], options: { key?: string; private?: boolean; registry?: string; preview?: boolean } = {}) {
    const form = new FormData();
    const query = `mutation ($files: [Upload!]!, $private: Boolean, $registry: String, $preview: Boolean) {
      upload(files: $files, private: $private, registry: $registry, preview: $preview) { accepted preview failure errors { locator field code message }
        files { files format accepted rowsRead counts errors { locator } failure } batches { id status private connector counts } } }`;
    form.set('operations', JSON.stringify({ query, variables: {
      files: files.map(() => null), private: options.private ?? false, registry: options.registry ?? null, preview: options.preview ?? false,
    } }));
    form.set('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))));
    files.forEach((f, i) => form.set(String(i), new Blob([typeof f.content === 'string' ? f.content : new Uint8Array(f.content)]), f.name));
    const response = await fetch(`${url}/graphql`, {
      method: 'POST', body: form, headers: { ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), 'graphql-require-preflight': '1' },
    });
    const body = await response.json() as { data?: { upload: any }; errors?: GqlResponse['errors'] };
    return { status: response.status, data: body.data, errors: body.errors };
  }

  return { url, gql, upload, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
