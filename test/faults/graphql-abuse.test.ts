/**
 * Fault suite, item 6 (issue I; results in docs/reliability.md): abusive GraphQL traffic alongside
 * normal traffic on one listening server (fastify + mercurius over HTTP, the demo's facts
 * projected). Abusive requests — too deep, too many aliases, oversized batches, missing or wrong
 * tokens, read tokens on mutations, CSRF-less posts, bodies over the limit, garbage JSON — must
 * make 0 resolver calls; the normal overview's p50/p99 with and without the abuse are printed
 * (a figure, not asserted: the machine is shared). The normal traffic and the abuse come from two
 * processes (graphql-load.ts), as they would from two clients.
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
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OVERVIEW_QUERY } from '../../bench/api.bench.ts';
import { ABUSE_KINDS } from './graphql-abuse-kinds.ts';

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

const LOAD = fileURLToPath(new URL('./graphql-load.ts', import.meta.url));

interface LoadResult {
  normal: { latencies: number[]; statuses: Record<string, number>; failures: string[] };
  abuse: Record<string, Record<string, number>>;
}

/** One load process (graphql-load.ts): `normalRps` overviews and `abuseRps` abusive requests a second. */
function loadProcess(normalRps: number, abuseRps: number, startAt: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [LOAD, server.url, READ, String(SECONDS), String(normalRps), String(abuseRps), String(startAt)],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as LoadResult),
    );
  });
}

/**
 * A phase: the normal traffic from one process and, when `abuseRps` > 0, the abuse from another,
 * both starting at the same moment (after their imports), so that sending the abuse does not
 * delay the normal answers' timing in the same event loop.
 */
async function runLoad(abuseRps: number): Promise<LoadResult> {
  const startAt = Date.now() + 3000;
  const [normal, abuse] = await Promise.all([
    loadProcess(NORMAL_RPS, 0, startAt),
    abuseRps > 0 ? loadProcess(0, abuseRps, startAt) : Promise.resolve(null),
  ]);
  return { normal: normal.normal, abuse: abuse?.abuse ?? {} };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

describe('fault suite: GraphQL abuse alongside normal traffic', () => {
  it(`abusive requests make 0 resolver calls; the overview keeps answering (${SECONDS} s per phase)`, async () => {
    const stats = server.api.stats;
    // Resolver calls per overview: a constant, measured on one request after a warm-up.
    const overview = () =>
      fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${READ}` },
        body: JSON.stringify({ query: OVERVIEW_QUERY }),
      }).then((r) => r.json());
    await overview();
    const c0 = stats.resolverCalls;
    await overview();
    const perOverview = stats.resolverCalls - c0;
    expect(perOverview).toBeGreaterThan(0);

    // Baseline: normal traffic alone.
    const b0 = stats.resolverCalls;
    const baseline = await runLoad(0);
    expect(baseline.normal.failures).toEqual([]);
    expect(stats.resolverCalls - b0).toBe(perOverview * baseline.normal.latencies.length);

    // Normal traffic and abuse together.
    const a0 = stats.resolverCalls;
    const mixed = await runLoad(ABUSE_RPS);
    const abusiveCalls = stats.resolverCalls - a0 - perOverview * mixed.normal.latencies.length;
    const abusive = Object.values(mixed.abuse).reduce(
      (n, m) => n + Object.values(m).reduce((a, b) => a + b, 0),
      0,
    );
    const statuses: Record<string, number> = {};
    for (const m of Object.values(mixed.abuse))
      for (const [k, v] of Object.entries(m)) statuses[k] = (statuses[k] ?? 0) + v;
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const [b, m] = [baseline.normal.latencies, mixed.normal.latencies];
    console.log(
      `[faults] graphql abuse: ${abusive} abusive requests (${ABUSE_KINDS.length} kinds, statuses ${JSON.stringify(statuses)}) → ${abusiveCalls} resolver calls; overview at ${NORMAL_RPS}/s (load from another process): p50 ${ms(quantile(b, 0.5))} → ${ms(quantile(m, 0.5))}, p99 ${ms(quantile(b, 0.99))} → ${ms(quantile(m, 0.99))} (ratio ${(quantile(m, 0.99) / quantile(b, 0.99)).toFixed(2)})`,
    );
    expect(abusiveCalls).toBe(0);
    expect(abusive).toBe(ABUSE_RPS * SECONDS);
    // Every abusive request was refused with a 4xx (a body over the limit may instead see its
    // connection closed while still sending); none answered 200 or failed with a 5xx.
    for (const [name, byStatus] of Object.entries(mixed.abuse))
      for (const status of Object.keys(byStatus))
        expect([
          name,
          (Number(status) >= 400 && Number(status) < 500) ||
            (status === 'closed' && name === 'body over 1 MiB'),
        ]).toEqual([name, true]);
    expect(Object.keys(mixed.abuse).sort()).toEqual([...ABUSE_KINDS].sort());
    expect(mixed.normal.failures).toEqual([]);
    expect(mixed.normal.statuses).toEqual({ 200: NORMAL_RPS * SECONDS });
  }, 300_000);
});
