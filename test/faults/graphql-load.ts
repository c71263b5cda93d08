/**
 * The load of the GraphQL abuse fault test (graphql-abuse.test.ts), in its own process so that
 * sending 1 MB bodies and timing answers does not share the server's event loop:
 * `node graphql-load.ts <url> <read-token> <seconds> <normal/s> <abuse/s>` prints one JSON line,
 * `{ normal: { latencies, statuses, failures }, abuse: { [kind]: { [status]: n } } }`.
 * Open loop: request i is sent at t0 + i / rate whatever the answers before it.
 */
import { OVERVIEW_QUERY } from '../../bench/api.bench.ts';
import { abuseRequests } from './graphql-abuse-kinds.ts';

const json = { 'content-type': 'application/json' };
const [url, READ, secondsArg, normalArg, abuseArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const read = { ...json, authorization: `Bearer ${READ}` };
const ABUSE = abuseRequests(READ);

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

const seconds = Number(secondsArg);
const normalRps = Number(normalArg);
const abuseRps = Number(abuseArg);
const failures: string[] = [];
const byKind: Record<string, Record<string, number>> = {};
const [normal] = await Promise.all([
  load(normalRps, seconds, async () => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: read,
      body: JSON.stringify({ query: OVERVIEW_QUERY }),
    });
    const answer = (await res.json()) as { errors?: unknown; data?: { overview?: { cluster?: string } } };
    if (answer.errors !== undefined || answer.data?.overview?.cluster !== 'demo')
      failures.push(JSON.stringify(answer).slice(0, 300));
    return res.status;
  }),
  abuseRps > 0
    ? load(abuseRps, seconds, async (i) => {
        const a = ABUSE[i % ABUSE.length]!;
        const m = (byKind[a.name] ??= {});
        try {
          const res = await fetch(`${url}/graphql`, { method: 'POST', headers: a.headers, body: a.body });
          await res.arrayBuffer();
          m[res.status] = (m[res.status] ?? 0) + 1;
          return res.status;
        } catch {
          // The server answered 413 and closed the connection while the body was still being sent.
          m.closed = (m.closed ?? 0) + 1;
          return 0;
        }
      })
    : Promise.resolve(null),
]);
process.stdout.write(
  JSON.stringify({
    normal: { latencies: normal.latencies, statuses: Object.fromEntries(normal.statuses), failures },
    abuse: byKind,
  }) + '\n',
);
