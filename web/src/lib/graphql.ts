/**
 * The dashboard's only way to data: the GraphQL API on the same origin (`/graphql`). Queries are
 * POSTs with the CSRF header; subscriptions go over graphql-ws on the same path and update the
 * TanStack Query cache (see `useLive`).
 */
import { createClient, type Client } from 'graphql-ws';
import { useEffect } from 'react';
import { useQuery, useQueryClient, type QueryKey, type UseQueryOptions } from '@tanstack/react-query';

const TOKEN_KEY = 'hetu.token';

/** A bearer token, when the server needs one (set in Settings, kept in localStorage). */
export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  wsClient?.dispose();
  wsClient = null;
}

/** An error the API returned, with its `extensions.code` (e.g. HETU_API_UNAUTHENTICATED). */
export class ApiError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-hetu-request': '1' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The API answered ${res.status} without JSON.`, 'HETU_WEB_BAD_RESPONSE');
  }
  if (body.errors?.length) {
    const e = body.errors[0]!;
    throw new ApiError(e.message, e.extensions?.code ?? 'HETU_API_ERROR');
  }
  if (!body.data) throw new ApiError(`The API answered ${res.status} without data.`, 'HETU_WEB_BAD_RESPONSE');
  return body.data;
}

/** A query through TanStack Query; the key is [name, variables]. */
export function useGql<T>(
  name: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: Omit<UseQueryOptions<T, ApiError>, 'queryKey' | 'queryFn'> = {},
) {
  return useQuery<T, ApiError>({
    queryKey: [name, variables],
    queryFn: () => gql<T>(query, variables),
    ...options,
  });
}

let wsClient: Client | null = null;

function ws(): Client {
  if (!wsClient) {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    wsClient = createClient({
      url,
      lazy: true,
      retryAttempts: Infinity,
      connectionParams: () => {
        const token = getToken();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
    });
  }
  return wsClient;
}

/** Subscribes; returns the unsubscribe function. */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  onError?: (e: unknown) => void,
): () => void {
  return ws().subscribe<T>(
    { query, variables },
    {
      next: (m) => {
        if (m.data) onData(m.data as T);
      },
      error: (e) => onError?.(e),
      complete: () => {},
    },
  );
}

/**
 * Live data: while mounted, every event of the subscription invalidates the queries whose key
 * starts with one of `keys`, so TanStack refetches what is on screen.
 */
export function useLive(query: string, variables: Record<string, unknown>, keys: QueryKey[]): void {
  const client = useQueryClient();
  const vars = JSON.stringify(variables);
  const keyText = JSON.stringify(keys);
  useEffect(() => {
    const parsedKeys = JSON.parse(keyText) as QueryKey[];
    return subscribe(query, JSON.parse(vars) as Record<string, unknown>, () => {
      for (const queryKey of parsedKeys) void client.invalidateQueries({ queryKey });
    });
  }, [client, query, vars, keyText]);
}
