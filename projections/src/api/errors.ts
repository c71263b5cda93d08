/**
 * Every error the API answers carries `extensions.code` and a sentence; none carries a stack.
 * Domain errors keep their code (`HETU_*`); GraphQL validation errors get `HETU_API_INVALID_QUERY`
 * unless a limit rule gave a sharper one; mercurius' and fastify's codes are mapped; anything else
 * is an internal error whose details stay in the server log.
 */
import type { GraphQLError } from 'graphql';

/** A GraphQLError of any graphql instance (by its toStringTag, not instanceof). */
function isGraphQLError(e: unknown): e is GraphQLError {
  return Object.prototype.toString.call(e) === '[object GraphQLError]';
}

export interface SafeError {
  readonly message: string;
  readonly locations?: readonly { line: number; column: number }[];
  readonly path?: readonly (string | number)[];
  readonly extensions: { readonly code: string };
}

const MAPPED: Readonly<Record<string, string>> = {
  MER_ERR_GQL_VALIDATION: 'HETU_API_INVALID_QUERY',
  MER_ERR_GQL_QUERY_DEPTH: 'HETU_API_QUERY_TOO_DEEP',
  MER_ERR_METHOD_NOT_ALLOWED: 'HETU_API_METHOD_NOT_ALLOWED',
  MER_ERR_GQL_CSRF_PREVENTION: 'HETU_API_CSRF',
  MER_ERR_GQL_PERSISTED_QUERY_NOT_FOUND: 'HETU_API_INVALID_QUERY',
  MER_ERR_GQL_PERSISTED_QUERY_NOT_SUPPORTED: 'HETU_API_INVALID_QUERY',
  FST_ERR_VALIDATION: 'HETU_API_BAD_REQUEST',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'HETU_API_BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'HETU_API_BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'HETU_API_BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'HETU_API_BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'HETU_API_BAD_REQUEST',
};

const STATUS: Readonly<Record<string, number>> = {
  HETU_API_INVALID_QUERY: 400,
  HETU_API_QUERY_TOO_DEEP: 400,
  HETU_API_TOO_MANY_ALIASES: 400,
  HETU_API_QUERY_TOO_COSTLY: 400,
  HETU_API_INTROSPECTION_DISABLED: 400,
  HETU_API_BATCH_TOO_LARGE: 400,
  HETU_API_BAD_REQUEST: 400,
  HETU_API_CSRF: 400,
  HETU_API_METHOD_NOT_ALLOWED: 405,
  HETU_API_UNAUTHENTICATED: 401,
  HETU_API_BAD_TOKEN: 401,
  HETU_API_FORBIDDEN: 403,
  HETU_API_CROSS_ORIGIN: 403,
};

function codeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const c = (err as { code: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}

/** HTTP status for an error answered without data. */
export function statusOf(code: string): number {
  return STATUS[code] ?? (code === 'HETU_API_INTERNAL' ? 500 : 200);
}

/** Flattens an error (a mercurius validation wrapper holds several) into safe errors. */
export function safeErrors(err: unknown, onInternal: (err: unknown) => void): SafeError[] {
  const original = isGraphQLError(err) ? err.originalError : err;
  const inner = (original as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(inner) && inner.length > 0) {
    const code = MAPPED[codeOf(original) ?? ''];
    return inner
      .flatMap((e) => safeErrors(e, onInternal))
      .map((e) => (e.extensions.code === 'HETU_API_INTERNAL' && code ? { ...e, extensions: { code } } : e));
  }
  const gql = isGraphQLError(err) ? err : null;
  const ext = gql?.extensions?.['code'];
  let code: string | undefined = typeof ext === 'string' ? ext : undefined;
  let message = gql?.message ?? (err instanceof Error ? err.message : String(err));
  if (code === undefined) {
    const c = codeOf(original);
    if (c !== undefined && c.startsWith('HETU_')) code = c;
    else if (c !== undefined && MAPPED[c] !== undefined) code = MAPPED[c];
    else if (gql !== null && original === undefined)
      code = 'HETU_API_INVALID_QUERY'; // a validation or syntax error
    else if (isGraphQLError(original)) return safeErrors(original, onInternal);
  }
  if (code === undefined) {
    onInternal(original ?? err);
    code = 'HETU_API_INTERNAL';
    message = 'Internal error: the server log has the details.';
  }
  const out: {
    message: string;
    extensions: { code: string };
    locations?: { line: number; column: number }[];
    path?: (string | number)[];
  } = {
    message,
    extensions: { code },
  };
  if (gql?.locations) out.locations = [...gql.locations];
  if (gql?.path) out.path = [...gql.path];
  return [out];
}
