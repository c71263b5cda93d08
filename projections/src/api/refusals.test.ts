/**
 * Refusals before GraphQL runs, on a real fastify app (buildApi over projections of an empty
 * embedded log, tokens configured), asked with `app.inject()`: every abusive request of the fault
 * suite gets its status, code and sentence with 0 resolver calls; a body that is not JSON keeps
 * the connection (it was read whole), a body over the limit closes it (it is not read); the
 * lexer pre-scan refuses documents that differ on every request (no cache to help) and lets a
 * valid one through; a read-only token's mutation is refused before its document is parsed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistryClient, createSerde, startEmbeddedRegistry, topicSpecs } from '@hetu/schemas';
import { EmbeddedLog, logSchemaStore } from '@hetu/streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abuseRequests } from '../../../test/faults/graphql-abuse-kinds.ts';
import { Projections } from '../projections.ts';
import { buildApi, type Api } from './app.ts';

const READ = 'read-token-refusals';
const ADMIN = 'admin-token-refusals';
const dir = mkdtempSync(join(tmpdir(), 'hetu-api-refusals-'));

let log: EmbeddedLog;
let registry: Awaited<ReturnType<typeof startEmbeddedRegistry>>;
let projections: Projections;
let api: Api;
let open: Api;

beforeAll(async () => {
  log = new EmbeddedLog({ dataDir: join(dir, 'log') });
  await log.ensureTopics(topicSpecs());
  registry = await startEmbeddedRegistry({ store: await logSchemaStore(log) });
  const serde = createSerde(createRegistryClient({ url: registry.url }));
  projections = await Projections.start({ log, serde });
  const auth = { readTokens: [READ], adminTokens: [ADMIN] };
  api = await buildApi({ projections, log, serde, auth, defaultMetrics: false });
  open = await buildApi({ projections, log, serde, auth, introspection: true, defaultMetrics: false });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await open?.close();
  await projections?.close();
  await registry?.close();
  await log?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  code: string | undefined;
  message: string | undefined;
  connection: string | undefined;
  body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function post(
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${READ}` },
  app: Api = api,
): Promise<Answer> {
  const res = await app.app.inject({ method: 'POST', url: '/graphql', headers, payload: body });
  const parsed = res.json() as Answer['body'];
  return {
    status: res.statusCode,
    code: parsed.errors?.[0]?.extensions?.code,
    message: parsed.errors?.[0]?.message,
    connection: res.headers.connection as string | undefined,
    body: parsed,
  };
}

const query = (q: string) => JSON.stringify({ query: q });
const deep = (n: number) =>
  `{ ${'after(position: { topic: "hetu.commands", partition: 0, offset: "0" }) { '.repeat(n)}clusters${' }'.repeat(n)} }`;

describe('refusals before GraphQL runs', () => {
  it('each abusive request of the fault suite: its status, code and sentence, 0 resolver calls', async () => {
    const expected: Record<string, [number, string]> = {
      'query 50 levels deep': [400, 'HETU_API_QUERY_TOO_DEEP'],
      '1 000 aliases': [400, 'HETU_API_TOO_MANY_ALIASES'],
      'batch of 1 000': [400, 'HETU_API_BATCH_TOO_LARGE'],
      'no token': [401, 'HETU_API_UNAUTHENTICATED'],
      'wrong token': [401, 'HETU_API_BAD_TOKEN'],
      'read token on a mutation': [403, 'HETU_API_FORBIDDEN'],
      'CSRF-less simple POST': [400, 'HETU_API_CSRF'],
      'body over 1 MiB': [400, 'HETU_API_BAD_REQUEST'],
      'garbage JSON': [400, 'HETU_API_BAD_REQUEST'],
      'introspection (off)': [400, 'HETU_API_INTROSPECTION_DISABLED'],
    };
    const kinds = abuseRequests(READ);
    expect(kinds.map((k) => k.name).sort()).toEqual(Object.keys(expected).sort());
    const calls = api.stats.resolverCalls;
    for (const k of kinds) {
      for (let i = 0; i < 2; i++) {
        // twice: the second from the verdict cache
        const a = await post(k.body, k.headers);
        expect([k.name, a.status, a.code]).toEqual([k.name, ...expected[k.name]!]);
        expect(a.body.data).toBeNull();
        expect(a.body.errors).toHaveLength(1);
        expect(a.message).toMatch(/^[A-Z][^\n]{10,200}[.']$/);
        expect(a.body.errors![0]).not.toHaveProperty('stack');
        // Only a body left unread closes the connection.
        expect([k.name, a.connection === 'close']).toEqual([k.name, k.name === 'body over 1 MiB']);
      }
    }
    expect(api.stats.resolverCalls).toBe(calls);
    const ok = await post(query('{ clusters }'));
    expect([ok.status, ok.body]).toEqual([200, { data: { clusters: [] } }]);
    expect(api.stats.resolverCalls).toBeGreaterThan(calls);
  });

  it('bodies: empty or not JSON refused with the connection kept; over the limit refused unread, after the token', async () => {
    const empty = await post('');
    expect([empty.status, empty.code, empty.connection === 'close']).toEqual([
      400,
      'HETU_API_BAD_REQUEST',
      false,
    ]);
    expect(empty.message).toBe("Body cannot be empty when content-type is set to 'application/json'");
    const poisoned = await post('{"query": "{ clusters }", "__proto__": { "x": 1 }}');
    expect([poisoned.status, poisoned.code]).toEqual([400, 'HETU_API_BAD_REQUEST']);
    const big = `{"query": "{ clusters } # ${'x'.repeat(1024 * 1024)}"}`;
    const over = await post(big);
    expect([over.status, over.code, over.connection]).toEqual([400, 'HETU_API_BAD_REQUEST', 'close']);
    expect(over.message).toBe('The request body is over the 1 MiB limit.');
    // The token is checked first; the connection is closed all the same (the body is not read).
    const anonymous = await post(big, { 'content-type': 'application/json' });
    expect([anonymous.status, anonymous.code, anonymous.connection]).toEqual([
      401,
      'HETU_API_UNAUTHENTICATED',
      'close',
    ]);
    const small = await post(query('{ clusters }'), { 'content-type': 'application/json' });
    expect([small.status, small.connection === 'close']).toEqual([401, false]);
    // Just under the limit: read and answered.
    const under = await post(`{"query": "{ clusters } # ${'x'.repeat(1024 * 1024 - 100)}"}`);
    expect([under.status, under.body]).toEqual([200, { data: { clusters: [] } }]);
  });

  it('the pre-scan refuses documents that differ on every request, and passes valid ones', async () => {
    const calls = api.stats.resolverCalls;
    for (let i = 0; i < 30; i++) {
      const d = await post(query(`${deep(15 + i)} # ${i}`));
      expect([d.status, d.code, d.message]).toEqual([
        400,
        'HETU_API_QUERY_TOO_DEEP',
        `Query depth limit of 14 exceeded, found ${16 + i}.`,
      ]);
      const a = await post(
        query(`{ ${Array.from({ length: 31 + i }, (_, j) => `a${j}: clusters`).join(' ')} } # ${i}`),
      );
      expect([a.status, a.code, a.message]).toEqual([
        400,
        'HETU_API_TOO_MANY_ALIASES',
        `Aliases limit of 30 exceeded, found ${31 + i}.`,
      ]);
      const s = await post(query(`{ __type(name: "Query") { name } } # ${i}`));
      expect([s.status, s.code]).toEqual([400, 'HETU_API_INTROSPECTION_DISABLED']);
    }
    expect(api.stats.resolverCalls).toBe(calls);
    // At the limits: answered.
    const before = api.stats.resolverCalls;
    const atDepth = await post(query(deep(13).replace(/offset: "0" \}/g, 'offset: "0" }, timeoutMs: 1')));
    // Through validation to the resolver (which waits 1 ms for a position an empty log never reaches).
    expect([atDepth.status, atDepth.code]).toEqual([200, 'HETU_API_FRESHNESS_TIMEOUT']);
    expect(api.stats.resolverCalls).toBeGreaterThan(before);
    const atAliases = await post(
      query(`{ ${Array.from({ length: 30 }, (_, j) => `a${j}: clusters`).join(' ')} t: __typename }`),
    );
    expect(atAliases.status).toBe(200);
    expect(Object.keys(atAliases.body.data as object)).toHaveLength(31);
    // With introspection on, `__schema` passes.
    const intro = await post(query('{ __schema { queryType { name } } }'), undefined, open);
    expect(intro.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('a mutation: refused for a read token before parsing, run for an admin token, 405 over GET', async () => {
    const m = 'mutation { splitErrorGroup(id: "x") { id } }';
    const calls = api.stats.resolverCalls;
    const read = await post(query(m));
    expect([read.status, read.code]).toEqual([403, 'HETU_API_FORBIDDEN']);
    // A document that does not parse is the parser's to refuse.
    const broken = await post(query('mutation { splitErrorGroup(id: "x") { id } '));
    expect([broken.status, broken.code]).toEqual([400, 'HETU_API_INVALID_QUERY']);
    expect(api.stats.resolverCalls).toBe(calls);
    const admin = await post(query(m), {
      'content-type': 'application/json',
      authorization: `Bearer ${ADMIN}`,
    });
    expect(admin.status).toBe(200);
    expect(admin.code).not.toBe('HETU_API_FORBIDDEN');
    expect(api.stats.resolverCalls).toBeGreaterThan(calls);
    const get = await api.app.inject({
      method: 'GET',
      url: `/graphql?query=${encodeURIComponent(m)}`,
      headers: { authorization: `Bearer ${READ}` },
    });
    expect([get.statusCode, get.json().errors[0].extensions.code]).toEqual([
      405,
      'HETU_API_METHOD_NOT_ALLOWED',
    ]);
    const deepGet = await api.app.inject({
      method: 'GET',
      url: `/graphql?query=${encodeURIComponent(deep(20))}`,
      headers: { authorization: `Bearer ${READ}` },
    });
    expect([deepGet.statusCode, deepGet.json().errors[0].extensions.code]).toEqual([
      400,
      'HETU_API_QUERY_TOO_DEEP',
    ]);
  });
});
