// The dashboard's one way to the data: POST /graphql (and GET /data for whole files), with the API key the user signed in with (kept
// in this browser only) and the labels' locale. Errors come back as messages a person can act on.

import { getLocale } from './i18n.ts';

const KEY_STORAGE = 'tally.apiKey';

export function apiKey(): string | null {
  return localStorage.getItem(KEY_STORAGE);
}

export function setApiKey(key: string | null): void {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

export class ApiError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

type GraphqlBody<T> = { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };

function headers(): Record<string, string> {
  const key = apiKey();
  return { 'Accept-Language': getLocale(), ...(key ? { Authorization: `Bearer ${key}` } : {}) };
}

async function answer<T>(response: Response): Promise<T> {
  let body: GraphqlBody<T>;
  try {
    body = (await response.json()) as GraphqlBody<T>;
  } catch {
    throw new ApiError(`the server answered ${response.status} ${response.statusText}`, 'HTTP');
  }
  const first = body.errors?.[0];
  if (first) throw new ApiError(first.message, first.extensions?.code);
  if (!body.data) throw new ApiError(`the server answered ${response.status} without data`, 'HTTP');
  return body.data;
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers() },
    body: JSON.stringify({ query, variables: { locale: getLocale() === 'ja' ? 'JA' : 'EN', ...variables } }),
  });
  return answer<T>(response);
}

/** A file of GET /data (the whole-dataset downloads), fetched with the signed-in key: what it holds for this caller. */
export async function dataFile(name: string): Promise<Response> {
  const response = await fetch(`/data/${name}`, { headers: headers() });
  if (!response.ok) throw new ApiError(`the server answered ${response.status} ${response.statusText}`, 'HTTP');
  return response;
}

/** The upload mutation as a GraphQL multipart request. */
export async function uploadFiles<T>(query: string, files: File[], variables: Record<string, unknown>): Promise<T> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query, variables: { ...variables, files: files.map(() => null) } }));
  form.set('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  files.forEach((file, i) => form.set(String(i), file, file.name));
  const response = await fetch('/graphql', { method: 'POST', body: form, headers: { ...headers(), 'GraphQL-Require-Preflight': '1' } });
  return answer<T>(response);
}
