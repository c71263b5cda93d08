/**
 * Fault suite, item 6 (issue I; results in docs/reliability.md): abusive GraphQL traffic alongside
 * normal traffic on one listening server (fastify + mercurius over HTTP, the demo's facts
 * projected). Abusive requests — too deep, too many aliases, oversized batches, missing or wrong
 * tokens, read tokens on mutations, CSRF-less posts, bodies over the limit, garbage JSON — must
 * make 0 resolver calls; the normal overview's p50/p99 with and without the abuse are printed
 * (a figure, not asserted: the machine is shared).
 *
 * Sizes: HETU_FAULT_ABUSE_S seconds per phase (3 in `npm test`, 30 with `npm run test:faults`),
 * normal traffic at 50 requests/s, abuse at 200 requests/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Projections, startApiServer, type Api } from '@hetu/projections';
import { parseGlobalConfig } from '../../cli/src/config.ts';
import { openBackend, type Backend } from '../../cli/src/backend.ts';
import { analyzeOn } from '../../cli/src/commands/analyze.ts';
import { OVERVIEW_QUERY } from '../../bench/api.bench.ts';

const SECONDS = Number(process.env.HETU_FAULT_ABUSE_S ?? 3);
const NORMAL_RPS = 50;
const ABUSE_RPS = 200;
const READ = 'read-token-0123456789';
const ADMIN = 'admin-token-0123456789';

const dir = mkdtempSync(join(tmpdir(), 'hetu-faults-abuse-'));
let backend: Backend;
let projections: Projections;
let server: { api: Api; url: string; close(): Promise<void> };

beforeAll(async () => {
  backend = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'data'), output: 'json' }, {}));
  await analyzeOn(backend, 'demo/demo.jsonl.gz');
  projections = await Projections.start({ log: backend.log, serde: backend.serde });
  await projections.whenCaughtUp(120_000);
  server = await startApiServer({
    projections,
    log: backend.log,
    serde: backend.serde,
    auth: { readTokens: [READ], adminTokens: [ADMIN] },
    defaultMetrics: false,
    port: 0,
  });
}, 240_000);

afterAll(async () => {
  await server?.close();
  await projections?.close();
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

const position = `{ topic: "hetu.commands", partition: 0, offset: "0" }`;
const json = { 'content-type': 'application/json' };
const read = { ...json, authorization: `Bearer ${READ}` };

/** Each abusive request: what it is, and how to send it (body, headers). */
const ABUSE: { name: string; headers: Record<string, string>; body: string }[] = [
  {
    name: 'query 50 levels deep',
    headers: read,
    body: JSON.stringify({
      query: `{ ${('after(position: ' + position + ') { ').repeat(49)}clusters${' }'.repeat(49)} }`,
    }),
  },
  {
    name: '1 000 aliases',
    headers: read,
    body: JSON.stringify({
      query: `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: clusters`).join(' ')} }`,
    }),
  },
  {
    name: 'batch of 1 000',
    headers: read,
    body: JSON.stringify(Array.from({ length: 1000 }, () => ({ query: '{ clusters }' }))),
  },
  { name: 'no token', headers: json, body: JSON.stringify({ query: '{ clusters }' }) },
  {
    name: 'wrong token',
    headers: { ...json, authorization: 'Bearer nope' },
    body: JSON.stringify({ query: '{ clusters }' }),
  },
  {
    name: 'read token on a mutation',
    headers: read,
    body: JSON.stringify({ query: 'mutation { splitErrorGroup(id: "x") { id } }' }),
  },
  {
    name: 'CSRF-less simple POST',
    headers: { 'content-type': 'text/plain', authorization: `Bearer ${READ}` },
    body: JSON.stringify({ query: '{ clusters }' }),
  },
  {
    name: 'body over 1 MiB',
    headers: read,
    body: JSON.stringify({ query: `{ clusters } # ${'x'.repeat(1_100_000)}` }),
  },
  { name: 'garbage JSON', headers: read, body: '{"query": "{ clusters }' },
  {
    name: 'introspection (off)',
    headers: read,
    body: JSON.stringify({ query: '{ __schema { types { name fields { name } } } }' }),
  },
];

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Sends `rps` requests per second for `seconds` (open loop); resolves with each latency in ms. */
async function load(
  rps: number,
  seconds: number,
  send: (i: number) => Promise<number>,
): Promise<{ latencies: number[]; statuses: Map<number, number> }> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < rps * seconds; i++) {
    const due = t0 + (i * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const started = performance.now();
    inflight.push(
      send(i).then((status) => {
        latencies.push(performance.now() - started);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
    );
  }
  await Promise.all(inflight);
  return { latencies: latencies.sort((a, b) => a - b), statuses };
}

describe('fault suite: GraphQL abuse alongside normal traffic', () => {
  it(`abusive requests make 0 resolver calls; the overview keeps answering (${SECONDS} s per phase)`, async () => {
    const normal = async () => {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: read,
        body: JSON.stringify({ query: OVERVIEW_QUERY }),
      });
      const body = (await res.json()) as { errors?: unknown; data?: { overview?: { cluster?: string } } };
      expect(body.errors).toBeUndefined();
      expect(body.data?.overview?.cluster).toBe('demo');
      return res.status;
    };
    const stats = server.api.stats;

    // Baseline: normal traffic alone; resolver calls per overview must be a constant.
    await normal(); // warm
    const c0 = stats.resolverCalls;
    await normal();
    const perOverview = stats.resolverCalls - c0;
    expect(perOverview).toBeGreaterThan(0);
    const b0 = stats.resolverCalls;
    const baseline = await load(NORMAL_RPS, SECONDS, normal);
    expect(stats.resolverCalls - b0).toBe(perOverview * baseline.latencies.length);

    // Normal traffic and abuse together.
    const a0 = stats.resolverCalls;
    const refusedBy = new Map<string, Map<number, number>>();
    const [mixed, abuse] = await Promise.all([
      load(NORMAL_RPS, SECONDS, normal),
      load(ABUSE_RPS, SECONDS, async (i) => {
        const a = ABUSE[i % ABUSE.length]!;
        const res = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: a.headers,
          body: a.body,
        });
        await res.arrayBuffer();
        const m = refusedBy.get(a.name) ?? new Map<number, number>();
        m.set(res.status, (m.get(res.status) ?? 0) + 1);
        refusedBy.set(a.name, m);
        return res.status;
      }),
    ]);
    const abusiveCalls = stats.resolverCalls - a0 - perOverview * mixed.latencies.length;
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    console.log(
      `[faults] graphql abuse: ${abuse.latencies.length} abusive requests (${ABUSE.length} kinds, statuses ${JSON.stringify(Object.fromEntries(abuse.statuses))}) → ${abusiveCalls} resolver calls; overview at ${NORMAL_RPS}/s: p50 ${ms(quantile(baseline.latencies, 0.5))} → ${ms(quantile(mixed.latencies, 0.5))}, p99 ${ms(quantile(baseline.latencies, 0.99))} → ${ms(quantile(mixed.latencies, 0.99))} (ratio ${(quantile(mixed.latencies, 0.99) / quantile(baseline.latencies, 0.99)).toFixed(2)})`,
    );
    expect(abusiveCalls).toBe(0);
    // Every abusive request was refused with a 4xx, none answered 200 or failed with a 5xx.
    for (const [name, byStatus] of refusedBy)
      for (const status of byStatus.keys())
        expect([name, status >= 400 && status < 500]).toEqual([name, true]);
    expect(refusedBy.size).toBe(ABUSE.length);
    expect(mixed.statuses).toEqual(new Map([[200, NORMAL_RPS * SECONDS]]));
  }, 300_000);
});
