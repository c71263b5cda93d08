/**
 * The API's guards: bearer tokens (read-only and admin), the loopback rule, CSRF prevention, and
 * the query limits (depth, aliases, cost, introspection) as GraphQL validation rules, which run
 * before any resolver on HTTP and, through a hook, on the WebSocket subscription path too.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import type {
  ASTVisitor,
  GraphQLError as GraphQLErrorType,
  ValidationContext,
  ValidationRule,
} from 'graphql';
import { graphql } from './graphql.ts';

const { GraphQLError } = graphql;

export type Role = 'read' | 'admin';

export interface Principal {
  readonly role: Role;
  /** Who it is, for a command's issuer: `admin`, `read` or `local` (loopback without tokens). */
  readonly name: string;
}

export interface AuthConfig {
  /** Tokens that may read (queries, subscriptions). */
  readonly readTokens?: readonly string[];
  /** Tokens that may also write (mutations). */
  readonly adminTokens?: readonly string[];
}

export interface ApiLimits {
  /** Deepest selection nesting. Default 14. */
  readonly maxDepth: number;
  /** Most aliases in one operation. Default 30. */
  readonly maxAliases: number;
  /** Highest cost (graphql-armor's cost model: objects 2, scalars 1, ×1.5 per level, × `first`). Default 50 000. */
  readonly maxCost: number;
  /** Most operations in one batched request. Default 10. */
  readonly maxBatch: number;
  /** Most tokens in one document (parser limit). Default 20 000. */
  readonly maxTokens: number;
}

export const DEFAULT_LIMITS: ApiLimits = Object.freeze({
  maxDepth: 14,
  maxAliases: 30,
  maxCost: 50_000,
  maxBatch: 10,
  maxTokens: 20_000,
});

/**
 * A refusal the API answers with before any GraphQL runs (401, 403, 400, 413): sent as it is, with
 * no Error built (a stack trace costs more than the rest of a refusal).
 */
export interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** The answer's body, serialized once: `{"data":null,"errors":[{"message","extensions":{"code"}}]}`. */
  readonly body: string;
}

export function refusal(status: number, code: string, message: string): Refusal {
  return Object.freeze({
    status,
    code,
    message,
    body: JSON.stringify({ data: null, errors: [{ message, extensions: { code } }] }),
  });
}

/** An error the API answers with before any GraphQL runs (401, 403, 400). */
export class ApiRequestError extends Error {
  readonly code: string;
  readonly statusCode: number;
  constructor(code: string, statusCode: number, message: string) {
    super(message);
    this.name = 'ApiRequestError';
    this.code = code;
    this.statusCode = statusCode;
  }
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (a === '::1') return true;
  return isIP(a) === 4 && a.startsWith('127.');
}

/** True for a host to listen on that only loopback clients reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}

const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

/** Compares tokens in constant time (over their SHA-256). */
export class TokenChecker {
  private readonly read: Buffer[];
  private readonly admin: Buffer[];

  constructor(cfg: AuthConfig | undefined) {
    this.read = (cfg?.readTokens ?? []).filter((t) => t.length > 0).map(digest);
    this.admin = (cfg?.adminTokens ?? []).filter((t) => t.length > 0).map(digest);
  }

  /** True when any token is configured: then every request must carry one. */
  get configured(): boolean {
    return this.read.length + this.admin.length > 0;
  }

  private match(token: string): Role | null {
    const d = digest(token);
    let role: Role | null = null;
    for (const a of this.admin) if (timingSafeEqual(a, d)) role = 'admin';
    if (role === null) for (const r of this.read) if (timingSafeEqual(r, d)) role = 'read';
    return role;
  }

  /**
   * Who a request is: a valid bearer token's role; without a token, the local admin when no tokens
   * are configured and the peer is on loopback. Otherwise the refusal (401) to answer with.
   */
  identify(token: string | null, peer: string | undefined): Principal | Refusal {
    if (token !== null && token !== '') {
      const role = this.match(token);
      if (role === null) return BAD_TOKEN;
      return role === 'admin' ? ADMIN : READ;
    }
    if (this.configured) return UNAUTHENTICATED;
    if (!isLoopbackAddress(peer)) return UNAUTHENTICATED_REMOTE;
    return LOCAL;
  }

  /** As identify, but throws ApiRequestError (401) where identify returns a refusal. */
  authenticate(token: string | null, peer: string | undefined): Principal {
    const who = this.identify(token, peer);
    if (isRefusal(who)) throw new ApiRequestError(who.code, who.status, who.message);
    return who;
  }
}

const ADMIN: Principal = Object.freeze({ role: 'admin', name: 'admin' });
const READ: Principal = Object.freeze({ role: 'read', name: 'read' });
const LOCAL: Principal = Object.freeze({ role: 'admin', name: 'local' });
const BAD_TOKEN = refusal(401, 'HETU_API_BAD_TOKEN', 'The bearer token is not one this server accepts.');
const UNAUTHENTICATED = refusal(
  401,
  'HETU_API_UNAUTHENTICATED',
  'This server needs a bearer token: send "Authorization: Bearer <token>" (or authorization in the WebSocket connection_init payload).',
);
const UNAUTHENTICATED_REMOTE = refusal(
  401,
  'HETU_API_UNAUTHENTICATED',
  'Requests from beyond loopback need a bearer token, and this server has none configured: start it with HETU_API_READ_TOKEN / HETU_API_ADMIN_TOKEN.',
);

/** True for a refusal (identify's answer when the request may not pass). */
export function isRefusal(x: Principal | Refusal | null): x is Refusal {
  return x !== null && 'status' in x;
}

/** The token of an `Authorization: Bearer <token>` value, or null. */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** The token a graphql-ws client sent in its connection_init payload, or null. */
export function connectionInitToken(payload: unknown): string | null {
  if (payload === null || typeof payload !== 'object') return null;
  const p = payload as Record<string, unknown>;
  const headers = (p['headers'] ?? {}) as Record<string, unknown>;
  for (const v of [
    p['authorization'],
    p['Authorization'],
    headers['authorization'],
    headers['Authorization'],
  ]) {
    const t = bearerToken(v);
    if (t !== null) return t;
  }
  return typeof p['token'] === 'string' ? p['token'] : null;
}

/** Content types that make a POST a non-simple request (a browser preflights them). */
const SAFE_CONTENT_TYPES = new Set([
  'application/json',
  'application/graphql',
  'application/graphql-response+json',
]);
/** Headers a browser cannot add to a simple cross-site request. */
export const CSRF_HEADERS = ['x-hetu-request', 'apollo-require-preflight', 'x-mercurius-operation-name'];

const CSRF = refusal(
  400,
  'HETU_API_CSRF',
  'This request could be a cross-site request forgery: send it as application/json, or add the header x-hetu-request: 1.',
);

/**
 * CSRF prevention for POST /graphql: the request must have a non-simple content type or one of
 * CSRF_HEADERS, else the refusal to answer with. (GET never mutates: mercurius refuses mutations
 * over GET.)
 */
export function csrfRefusal(method: string, headers: Record<string, unknown>): Refusal | null {
  if (method !== 'POST') return null;
  const ct = String(headers['content-type'] ?? '')
    .split(';', 1)[0]!
    .trim()
    .toLowerCase();
  if (SAFE_CONTENT_TYPES.has(ct)) return null;
  if (CSRF_HEADERS.some((h) => headers[h] !== undefined)) return null;
  return CSRF;
}

/** As csrfRefusal, but throws ApiRequestError (400). */
export function checkCsrf(method: string, headers: Record<string, unknown>): void {
  const r = csrfRefusal(method, headers);
  if (r !== null) throw new ApiRequestError(r.code, r.status, r.message);
}

/**
 * A WebSocket upgrade from another origin (cross-site WebSocket hijacking) is refused unless the
 * server requires tokens (then the token at connection_init protects it).
 */
export function checkWebSocketOrigin(headers: Record<string, unknown>, tokensConfigured: boolean): void {
  const origin = headers['origin'];
  if (tokensConfigured || typeof origin !== 'string' || origin === 'null') return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== String(headers['host'] ?? ''))
    throw new ApiRequestError(
      'HETU_API_CROSS_ORIGIN',
      403,
      `WebSocket connections from ${origin} are refused: without tokens this server accepts only same-origin WebSockets.`,
    );
}

const reject =
  (code: string) =>
  (ctx: ValidationContext | null, err: GraphQLErrorType): void => {
    ctx?.reportError(new GraphQLError(err.message.replace(/^Syntax Error: /, ''), { extensions: { code } }));
  };

/** Forbids `__schema` and `__type` (introspection); `__typename` stays allowed. */
export function noIntrospectionRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        context.reportError(
          new GraphQLError(
            'Introspection is disabled on this server: start it with --introspection to enable it.',
            {
              nodes: node,
              extensions: { code: 'HETU_API_INTROSPECTION_DISABLED' },
            },
          ),
        );
      }
    },
  };
}

/** The limits as validation rules: depth, aliases, cost, and introspection unless enabled. */
export function limitRules(limits: ApiLimits, introspection: boolean): ValidationRule[] {
  const rules: ValidationRule[] = [
    maxDepthRule({
      n: limits.maxDepth,
      ignoreIntrospection: true,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: [reject('HETU_API_QUERY_TOO_DEEP')],
    }) as unknown as ValidationRule,
    maxAliasesRule({
      n: limits.maxAliases,
      propagateOnRejection: false,
      onReject: [reject('HETU_API_TOO_MANY_ALIASES')],
    }) as unknown as ValidationRule,
    costLimitRule({
      maxCost: limits.maxCost,
      propagateOnRejection: false,
      onReject: [reject('HETU_API_QUERY_TOO_COSTLY')],
    }) as unknown as ValidationRule,
  ];
  if (!introspection) rules.push(noIntrospectionRule);
  return rules;
}
