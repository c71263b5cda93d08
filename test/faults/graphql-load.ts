/**
 * The load of the GraphQL abuse fault test (graphql-abuse.test.ts), in its own process so that
 * sending 1 MB bodies and timing answers does not share the server's event loop:
 * `node graphql-load.ts <url> <read-token> <seconds> <normal/s> <abuse/s> [<start at, epoch ms>]`
 * prints one JSON line, `{ normal: { latencies, statuses, failures }, abuse: { [kind]: { [status]: n } } }`.
 * Open loop: request i is sent at t0 + i / rate whatever the answers before it. The test runs the
 * normal traffic and the abuse in two such processes started together (the same start time), so
 * the abuse's sending does not delay the timing of normal answers in the client's event loop.
 */
import { Agent, request } from 'node:http';
import { OVERVIEW_QUERY } from '../../bench/api.bench.ts';
import { abuseRequests } from './graphql-abuse-kinds.ts';

const json = { 'content-type': 'application/json' };
const [url, READ, secondsArg, normalArg, abuseArg, startArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string | undefined,
];
const read = { ...json, authorization: `Bearer ${READ}` };
// Bodies encoded once (a 1 MiB string would be encoded again for every request).
const ABUSE = abuseRequests(READ).map((a) => ({ ...a, bytes: Buffer.from(a.body) }));
const agent = new Agent({ keepAlive: true });

/**
 * One abusive request over node:http with a keep-alive agent: a sender much lighter than fetch, as
 * the abuse's own CPU would otherwise compete with the server's on a 2-core machine. Resolves with
 * the status, or `closed` when the connection failed before an answer (the server may close it
 * while a body over the limit is still being sent).
 */
function sendAbuse(a: (typeof ABUSE)[number]): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/graphql`,
      { method: 'POST', agent, headers: { ...a.headers, 'content-length': String(a.bytes.length) } },
      (res) => {
        res.on('error', () => resolve('closed'));
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    req.on('error', () => resolve('closed'));
    req.end(a.bytes);
  });
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

const seconds = Number(secondsArg);
if (startArg !== undefined) {
  const wait = Number(startArg) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
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
        const status = await sendAbuse(a);
        m[status] = (m[status] ?? 0) + 1;
        return typeof status === 'number' ? status : 0;
      })
    : Promise.resolve(null),
]);
process.stdout.write(
  JSON.stringify({
    normal: { latencies: normal.latencies, statuses: Object.fromEntries(normal.statuses), failures },
    abuse: byKind,
  }) + '\n',
);
agent.destroy();
