/**
 * The API's fastify app (a factory, separate from listening): mercurius at /graphql over HTTP and
 * WebSocket (graphql-transport-ws and graphql-ws), /healthz, /readyz, /metrics. Guards run before
 * any resolver: token and CSRF checks on the request, the batch cap before execution, the limit
 * rules in validation, and on the subscription path the same rules in a hook (mercurius does not
 * validate subscriptions itself).
 */
import { readFileSync } from 'node:fs';
import type { Serde } from '@hetu/schemas';
import { HetuError, type Log } from '@hetu/streams';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DocumentNode, ExecutionResult, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import mercurius from 'mercurius';
import type { ProcessorInfo, Projections } from '../projections.ts';
import type { ProjectionStore } from '../store/store.ts';
import { safeErrors, statusOf } from './errors.ts';
import { graphql } from './graphql.ts';
import { VerdictCache } from './prescan.ts';
import { createMetrics, type ApiMetrics } from './metrics.ts';
import { createResolvers, type ApiContext, type ApiStats, type ServerAbout } from './resolvers.ts';
import { registerWeb } from './web.ts';
import {
  ApiRequestError,
  DEFAULT_LIMITS,
  TokenChecker,
  bearerToken,
  checkWebSocketOrigin,
  connectionInitToken,
  csrfRefusal,
  isLoopbackHost,
  isRefusal,
  limitRules,
  refusal,
  type ApiLimits,
  type AuthConfig,
  type Principal,
  type Refusal,
} from './security.ts';

import { DEFAULT_API_HOST, DEFAULT_API_PORT } from './defaults.ts';

export { DEFAULT_API_HOST, DEFAULT_API_PORT } from './defaults.ts';
const { GraphQLError, Kind, specifiedRules, validate } = graphql;

/** An error carrying GraphQL extensions (mercurius' ErrorWithProps): mercurius' own conversion. */
function hasExtensions(e: unknown): e is Error & { extensions: Record<string, unknown> } {
  return e instanceof Error && typeof (e as { extensions?: unknown }).extensions === 'object';
}
const toGraphQLError = (e: Error & { extensions: Record<string, unknown> }) =>
  Object.prototype.toString.call(e) === '[object GraphQLError]'
    ? e
    : new GraphQLError(e.message, { originalError: e, extensions: e.extensions });

/** The schema's SDL (projections/schema.graphql). */
export const SCHEMA_SDL = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');

export interface ApiOptions {
  readonly projections: Projections;
  readonly log: Log;
  readonly serde: Serde;
  /** Bearer tokens; without any, only loopback clients are served (as admin). */
  readonly auth?: AuthConfig;
  /** Allow `__schema` / `__type`. Default false. */
  readonly introspection?: boolean;
  readonly limits?: Partial<ApiLimits>;
  /** Processors running against the same log: `after` waits for them, the pipeline status lists them. */
  readonly processors?: readonly ProcessorInfo[];
  /** Remediation hint per rule id (level 4); the CLI passes the scoring rules' hints. */
  readonly ruleHints?: ReadonlyMap<string, string>;
  /** Event time a command is issued at. Default: the projections' newest event time, else the wall clock. */
  readonly commandClock?: () => number;
  /** Fastify's logger option. Default false. */
  readonly logger?: boolean;
  /** Compile a query with graphql-jit after it ran this many times. Default 20; 0 disables. */
  readonly jit?: number;
  /** Node's default process metrics on /metrics. Default true. */
  readonly defaultMetrics?: boolean;
  /**
   * A built dashboard (a directory with index.html, e.g. web/dist) to serve on the same port:
   * static files, and index.html for any other GET of a page path (web.ts). Default none.
   */
  readonly webRoot?: string;
  /** The server's version and LLM setup (`about`). Default: version unknown, no LLM. */
  readonly about?: ServerAbout;
}

export interface Api {
  readonly app: FastifyInstance;
  readonly stats: ApiStats;
  readonly metrics: ApiMetrics;
  readonly limits: ApiLimits;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    hetuAuth: Principal | null;
  }
}

type OpType = 'query' | 'mutation' | 'subscription';

function operationsOf(document: DocumentNode): OperationDefinitionNode[] {
  return document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
}

/** The operation type a document runs (the first operation's when there are several). */
function operationType(document: DocumentNode): OpType {
  const ops = operationsOf(document);
  if (ops.some((o) => o.operation === 'mutation')) return 'mutation';
  return ops[0]?.operation ?? 'query';
}

function isUpgrade(req: FastifyRequest): boolean {
  return String(req.headers['upgrade'] ?? '').toLowerCase() === 'websocket';
}

/** The largest request body, 1 MiB. */
const BODY_LIMIT = 1024 * 1024;
const TOO_LARGE = refusal(
  400,
  'HETU_API_BAD_REQUEST',
  `The request body is over the ${BODY_LIMIT / 1024 / 1024} MiB limit.`,
);
const FORBIDDEN = refusal(
  403,
  'HETU_API_FORBIDDEN',
  'Mutations need an admin token; this request has a read-only one.',
);
/** A JSON body that did not parse: its refusal, answered in preValidation (the body was read whole). */
const BAD_BODY = Symbol('hetu.badBody');
type BadBody = { readonly [BAD_BODY]: Refusal };
const badBody = (message: string): BadBody => ({ [BAD_BODY]: refusal(400, 'HETU_API_BAD_REQUEST', message) });
const EMPTY_JSON = badBody("Body cannot be empty when content-type is set to 'application/json'");
const INVALID_JSON = badBody("Body is not valid JSON but content-type is set to 'application/json'");
const isBadBody = (body: unknown): body is BadBody =>
  typeof body === 'object' && body !== null && BAD_BODY in body;

/** Answers a refusal at once: no Error, no GraphQL; `close` ends the connection (an unread body). */
function refuse(res: FastifyReply, r: Refusal, close = false): FastifyReply {
  if (close) void res.header('connection', 'close');
  return res.code(r.status).type('application/json; charset=utf-8').send(r.body);
}

export async function buildApi(opts: ApiOptions): Promise<Api> {
  const { projections, log, serde } = opts;
  const tokens = new TokenChecker(opts.auth);
  const limits: ApiLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const rules = limitRules(limits, opts.introspection === true);
  const stores = Object.values(projections.stores) as ProjectionStore[];
  const stats: ApiStats = {
    resolverCalls: 0,
    loaderCalls: 0,
    storeCalls: () => stores.reduce((acc, st) => acc + [...st.calls.values()].reduce((a, b) => a + b, 0), 0),
    storeCallsBy: () =>
      Object.fromEntries(
        stores.flatMap((st) => [...st.calls.entries()].map(([m, n]) => [`${st.name}.${m}`, n])),
      ),
  };
  const metrics = createMetrics(projections, { defaultMetrics: opts.defaultMetrics !== false });
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: BODY_LIMIT });
  const { resolvers, loaders, publisher } = createResolvers({
    projections,
    log,
    serde,
    processors: opts.processors ?? [],
    hints: opts.ruleHints ?? new Map(),
    ...(opts.about ? { about: opts.about } : {}),
    commandClock: opts.commandClock ?? (() => projections.watermark() ?? Date.now()),
    stats,
  });
  const onInternal = (err: unknown) => app.log.error({ err }, 'internal error answering a request');

  const reply = (code: string, message: string) => ({ errors: [{ message, extensions: { code } }] });
  app.setErrorHandler((err, _req, res) => {
    const [e] = safeErrors(err, onInternal);
    const status = (err as { statusCode?: number }).statusCode ?? statusOf(e!.extensions.code);
    void res.code(status >= 400 ? status : 500).send({ errors: [e] });
  });
  const webFallback = opts.webRoot === undefined ? undefined : await registerWeb(app, opts.webRoot);
  app.setNotFoundHandler((req, res) => {
    if (webFallback?.(req, res)) return;
    void res
      .code(404)
      .send(
        reply('HETU_API_NOT_FOUND', `There is nothing at ${req.method} ${req.url}: the API is at /graphql.`),
      );
  });

  app.decorateRequest('hetuAuth', null);
  // Refusals in the order of their cost: CSRF, the token and the body's declared size before the
  // body is read; a body that is not JSON before mercurius; the batch cap and what the limit rules
  // would refuse (a lexer pass, cached by document) before the document is parsed. Each answers
  // at once (refuse), without building an Error.
  app.addHook('onRequest', async (req, res) => {
    const route = req.routeOptions.url;
    if (route === '/graphql') {
      if (isUpgrade(req)) {
        // WebSockets carry their token in connection_init (browsers cannot set headers).
        checkWebSocketOrigin(req.headers, tokens.configured);
        return;
      }
      // A refused request's body is not read: over the limit, or of unknown length, the connection
      // is closed rather than the body read to its end and dropped.
      const overLimit = Number(req.headers['content-length'] ?? 0) > BODY_LIMIT;
      const close = overLimit || req.headers['transfer-encoding'] !== undefined;
      const csrf = csrfRefusal(req.method, req.headers);
      if (csrf !== null) return refuse(res, csrf, close);
      const who = tokens.identify(bearerToken(req.headers.authorization), req.ip);
      if (isRefusal(who)) return refuse(res, who, close);
      req.hetuAuth = who;
      // fastify would refuse it too, but only once the body's reading began.
      if (overLimit) return refuse(res, TOO_LARGE, true);
    } else if (route === '/metrics') {
      req.hetuAuth = tokens.authenticate(bearerToken(req.headers.authorization), req.ip);
    }
  });
  // JSON bodies: fastify's parser, but a body that does not parse is refused in preValidation
  // rather than as a parser error (which makes fastify close the connection although the body was
  // read whole).
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (text.length === 0) return done(null, EMPTY_JSON);
    jsonParser(req, text, (err: Error | null, value?: unknown) => done(null, err ? INVALID_JSON : value));
  });
  app.addHook('preValidation', async (req, res) => {
    if (isBadBody(req.body)) return refuse(res, req.body[BAD_BODY]);
  });
  const verdicts = new VerdictCache({
    maxDepth: limits.maxDepth,
    maxAliases: limits.maxAliases,
    maxTokens: limits.maxTokens,
    introspection: opts.introspection === true,
  });
  app.addHook('preHandler', async (req, res) => {
    if (req.routeOptions.url !== '/graphql') return;
    const body = req.body;
    if (Array.isArray(body)) {
      if (body.length > limits.maxBatch) {
        metrics.operations.inc({ operation: 'batch', outcome: 'rejected' });
        return refuse(
          res,
          refusal(
            400,
            'HETU_API_BATCH_TOO_LARGE',
            `A batch may hold at most ${limits.maxBatch} operations; this one has ${body.length}.`,
          ),
        );
      }
      return;
    }
    const query =
      req.method === 'GET'
        ? (req.query as { query?: unknown } | undefined)?.query
        : (body as { query?: unknown } | undefined)?.query;
    if (typeof query !== 'string') return;
    const v = verdicts.verdict(query);
    if (v.refusal !== null) return refuse(res, v.refusal);
    // A mutation over GET is mercurius' to refuse (405); over POST a read-only token may not send one.
    if (v.mutation && req.method !== 'GET' && req.hetuAuth?.role !== 'admin') {
      metrics.operations.inc({ operation: 'mutation', outcome: 'rejected' });
      return refuse(res, FORBIDDEN);
    }
  });
  app.addHook('onResponse', async (req, res) => {
    const route = req.routeOptions.url ?? 'unknown';
    metrics.httpRequests.inc({ method: req.method, route, status_code: String(res.statusCode) });
    metrics.httpDuration.observe({ method: req.method, route }, res.elapsedTime / 1000);
  });

  const activeByConnection = new WeakMap<object, number>();
  const mercuriusOptions = {
    schema: SCHEMA_SDL,
    resolvers,
    loaders,
    path: '/graphql',
    graphiql: false,
    jit: opts.jit ?? 20,
    allowBatchedQueries: true,
    validationRules: rules,
    graphql: { parseOptions: { maxTokens: limits.maxTokens } },
    context: (req: FastifyRequest): ApiContext => (req.hetuAuth ? { auth: req.hetuAuth } : {}),
    // Errors thrown before execution (a document that does not parse or validate, a body fastify
    // refused): answered as errorFormatter would, without mercurius' default handler wrapping each
    // in a GraphQLError (whose constructor formats the original error's stack).
    errorHandler: (error: unknown, _req: FastifyRequest, res: FastifyReply) => {
      const errors = safeErrors(hasExtensions(error) ? toGraphQLError(error) : error, onInternal);
      let statusCode = 200;
      for (const e of errors) {
        const s = statusOf(e.extensions.code);
        if (s !== 200) {
          statusCode = s;
          break;
        }
      }
      return res.code(statusCode).send({ data: null, errors });
    },
    errorFormatter: (execution: ExecutionResult & { statusCode?: number }, _ctx: unknown) => {
      const errors = (execution.errors ?? []).flatMap((e) => safeErrors(e, onInternal));
      let statusCode = 200;
      if (!execution.data) {
        for (const e of errors) {
          const s = statusOf(e.extensions.code);
          if (s !== 200) {
            statusCode = s;
            break;
          }
        }
      }
      return { statusCode, response: { data: execution.data ?? null, errors } };
    },
    subscription: {
      fullWsTransport: false,
      // mercurius calls onConnect on the connection: `this.context.request` is the upgrade request.
      onConnect(this: { context?: { request?: FastifyRequest } } | undefined, data: { payload?: unknown }) {
        try {
          return { auth: tokens.authenticate(connectionInitToken(data.payload), this?.context?.request?.ip) };
        } catch {
          return false;
        }
      },
    },
  };
  await app.register(mercurius, mercuriusOptions as unknown as Parameters<typeof mercurius>[1]);

  const started = new WeakMap<object, { type: OpType; start: number }>();
  app.graphql.addHook(
    'preExecution',
    async (_schema: GraphQLSchema, document: DocumentNode, context: ApiContext) => {
      const type = operationType(document);
      const ops = operationsOf(document);
      if (ops.length > 0 && ops.every((o) => o.operation === 'subscription')) {
        metrics.operations.inc({ operation: 'subscription', outcome: 'rejected' });
        throw new HetuError(
          'HETU_API_SUBSCRIPTION_OVER_HTTP',
          'Subscriptions run over WebSocket (graphql-transport-ws) at /graphql.',
        );
      }
      if (type === 'mutation' && context.auth?.role !== 'admin') {
        metrics.operations.inc({ operation: 'mutation', outcome: 'rejected' });
        throw new ApiRequestError(
          'HETU_API_FORBIDDEN',
          403,
          'Mutations need an admin token; this request has a read-only one.',
        );
      }
      started.set(context, { type, start: performance.now() });
      return undefined;
    },
  );
  app.graphql.addHook('onResolution', async (execution: ExecutionResult, context: ApiContext) => {
    const s = started.get(context);
    if (!s) return;
    metrics.operations.inc({ operation: s.type, outcome: execution.errors?.length ? 'error' : 'ok' });
    metrics.operationDuration.observe({ operation: s.type }, (performance.now() - s.start) / 1000);
  });
  app.graphql.addHook(
    'preSubscriptionExecution',
    async (schema: GraphQLSchema, document: DocumentNode, context: ApiContext & { request?: object }) => {
      const fail = (message: string, code: string) => {
        metrics.operations.inc({ operation: 'subscription', outcome: 'rejected' });
        return new GraphQLError(message, { extensions: { code } });
      };
      if (!context.auth) throw fail('This connection is not authenticated.', 'HETU_API_UNAUTHENTICATED');
      // The limits first: a 1 000-alias document is refused for its aliases, not for its shape.
      let errors = validate(schema, document, rules);
      if (errors.length === 0) errors = validate(schema, document, specifiedRules);
      if (errors.length > 0) {
        const first = errors[0]!;
        const code = first.extensions?.['code'];
        throw fail(first.message, typeof code === 'string' ? code : 'HETU_API_INVALID_QUERY');
      }
      if (operationType(document) !== 'subscription')
        throw fail(
          'Only subscriptions run over this WebSocket; send queries and mutations over HTTP.',
          'HETU_API_INVALID_QUERY',
        );
      metrics.operations.inc({ operation: 'subscription', outcome: 'ok' });
      metrics.subscriptions.inc();
      if (context.request)
        activeByConnection.set(context.request, (activeByConnection.get(context.request) ?? 0) + 1);
    },
  );
  const ended = (context: { request?: object } | undefined, all: boolean) => {
    const req = context?.request;
    const n = req ? (activeByConnection.get(req) ?? 0) : 0;
    const k = all ? n : Math.min(1, n);
    if (k > 0 && req) {
      metrics.subscriptions.dec(k);
      activeByConnection.set(req, n - k);
    }
  };
  app.graphql.addHook('onSubscriptionEnd', async (context: { request?: object }) => ended(context, false));
  app.graphql.addHook('onSubscriptionConnectionClose', async (context: { request?: object }) =>
    ended(context, true),
  );

  const unsubscribe = projections.onChange(
    publisher((topic, payload) => {
      void app.graphql.pubsub.publish({ topic, payload });
    }),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const f = await projections.freshness();
    const body = {
      ready: projections.ready,
      caughtUp: f.caughtUp,
      lag: Number(f.lag),
      lastEventTime: f.lastEventTime === null ? null : new Date(f.lastEventTime).toISOString(),
    };
    return res.code(projections.ready ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_req, res) => {
    const text = await metrics.registry.metrics();
    return res.header('content-type', metrics.registry.contentType).send(text);
  });

  await app.ready();
  let closing: Promise<void> | undefined;
  return {
    app,
    stats,
    metrics,
    limits,
    close: () => {
      closing ??= (async () => {
        unsubscribe();
        await app.close();
      })();
      return closing;
    },
  };
}

/** A listening API: refuses to listen beyond loopback without tokens. */
export async function startApiServer(
  opts: ApiOptions & { readonly host?: string; readonly port?: number },
): Promise<{ api: Api; url: string; close(): Promise<void> }> {
  const host = opts.host ?? DEFAULT_API_HOST;
  if (!isLoopbackHost(host) && !new TokenChecker(opts.auth).configured) {
    throw new HetuError(
      'HETU_API_TOKENS_REQUIRED',
      `The API would listen on ${host}, beyond loopback, without tokens: set HETU_API_READ_TOKEN and HETU_API_ADMIN_TOKEN, or listen on 127.0.0.1.`,
    );
  }
  const api = await buildApi(opts);
  try {
    const url = await api.app.listen({ host, port: opts.port ?? DEFAULT_API_PORT });
    return { api, url, close: () => api.close() };
  } catch (err) {
    await api.close();
    throw err;
  }
}
