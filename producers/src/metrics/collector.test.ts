import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Serde } from '@hetu/schemas';
import type { AppendRecord, Log } from '@hetu/streams';
import {
  alignedEvaluationTime,
  createMetricsCollector,
  METRICS_APPEND_RECORDS,
  samplesFromVector,
  type MetricsCollectorOptions,
  type PromVectorSample,
} from './collector.ts';
import { DEFAULT_METRIC_QUERIES, METRIC_NAMES, resolveMetricQueries } from './queries.ts';

const AT = Date.parse('2026-11-26T08:00:30.000Z');
const v = (metric: Record<string, string>, value: string): PromVectorSample => ({
  metric,
  value: [AT / 1000, value],
});

describe('samplesFromVector', () => {
  it('keeps exactly the vocabulary labels, drops pod-level, POD and incomplete series, skips non-finite values', () => {
    const base = { job: 'kubelet', instance: '10.0.0.1:10250', image: 'x', id: '/kubepods/a' };
    const out = samplesFromVector(
      'memory_working_set_bytes',
      [
        v({ ...base, namespace: 'shop', pod: 'b-1', container: 'b' }, '2'),
        v({ ...base, namespace: 'shop', pod: 'a-1', container: 'a' }, '1'),
        v({ ...base, namespace: 'shop', pod: 'a-1', container: '' }, '3'),
        v({ ...base, namespace: 'shop', pod: 'a-1', container: 'POD' }, '4'),
        v({ ...base, namespace: 'shop', pod: 'a-1' }, '5'),
        v({ ...base, namespace: 'shop', pod: 'c-1', container: 'c' }, 'NaN'),
        v({ ...base, namespace: 'shop', pod: 'd-1', container: 'd' }, '+Inf'),
        v({ ...base, namespace: 'shop', pod: 'e-1', container: 'e' }, '-Inf'),
        v({ namespace: 'shop', pod: 'a-1', container: 'a', id: 'other' }, '6'),
      ],
      AT,
      'prod',
    );
    expect(out).toEqual({
      samples: [
        {
          ts: AT,
          cluster: 'prod',
          name: 'memory_working_set_bytes',
          labels: { namespace: 'shop', pod: 'a-1', container: 'a' },
          value: 1,
        },
        {
          ts: AT,
          cluster: 'prod',
          name: 'memory_working_set_bytes',
          labels: { namespace: 'shop', pod: 'b-1', container: 'b' },
          value: 2,
        },
      ],
      skippedNonFinite: 3,
      dropped: 4,
    });
  });

  it('accepts only go and jvm as a GC runtime, and cluster-wide series have no labels', () => {
    const gc = samplesFromVector(
      'gc_pause_seconds',
      [
        v({ namespace: 'a', pod: 'p', runtime: 'go' }, '0.001'),
        v({ namespace: 'a', pod: 'q', runtime: 'dotnet' }, '0.002'),
      ],
      AT,
      'c',
    );
    expect(gc.samples.map((s) => [s.labels, s.value])).toEqual([
      [{ namespace: 'a', pod: 'p', runtime: 'go' }, 0.001],
    ]);
    expect(gc.dropped).toBe(1);
    const dns = samplesFromVector('coredns_cache_hit_ratio', [v({ job: 'coredns' }, '0.875')], AT, 'c');
    expect(dns.samples).toEqual([
      { ts: AT, cluster: 'c', name: 'coredns_cache_hit_ratio', labels: {}, value: 0.875 },
    ]);
  });
});

describe('queries', () => {
  it('has one default query per vocabulary name; overrides replace or switch off; unknown names are refused', () => {
    expect(Object.keys(DEFAULT_METRIC_QUERIES)).toEqual([...METRIC_NAMES]);
    const q = resolveMetricQueries({ cpu_usage_cores: 'my_cpu', pvc_used_bytes: null });
    expect(q.length).toBe(12);
    expect(q[0]).toEqual({ name: 'cpu_usage_cores', query: 'my_cpu' });
    expect(q.map((x) => x.name)).not.toContain('pvc_used_bytes');
    expect(() => resolveMetricQueries({ cpu: 'x' } as never)).toThrow(
      expect.objectContaining({ code: 'HETU_METRICS_UNKNOWN_NAME' }),
    );
  });

  it('aligns evaluation times to the interval', () => {
    expect(alignedEvaluationTime(AT + 29_999, 30_000)).toBe(AT);
    expect(alignedEvaluationTime(AT + 30_000, 30_000)).toBe(AT + 30_000);
  });
});

/** A fake log and serde that record what is appended. */
function sink(failAppend = false) {
  const appended: { topic: string; records: AppendRecord[] }[] = [];
  const log = {
    append: async (topic: string, records: readonly AppendRecord[]) => {
      if (failAppend) throw new Error('broker down');
      appended.push({ topic, records: [...records] });
      return [];
    },
  } as unknown as Log;
  const serde = {
    encode: async (_t: string, _n: string, value: unknown) => Buffer.from(JSON.stringify(value)),
  } as unknown as Serde;
  return { appended, log, serde };
}

type Answer = (query: string, form: URLSearchParams, signal: AbortSignal) => Promise<Response> | Response;

function fakeFetch(answer: Answer) {
  const calls: URLSearchParams[] = [];
  const f = (async (url: string | URL | Request, init?: RequestInit) => {
    expect(String(url)).toBe('http://prom:9090/api/v1/query');
    const form = new URLSearchParams(String(init?.body));
    calls.push(form);
    return answer(form.get('query') ?? '', form, init!.signal!);
  }) as typeof fetch;
  return { f, calls };
}

const vector = (result: PromVectorSample[]) =>
  Response.json({ status: 'success', data: { resultType: 'vector', result } });

function make(answer: Answer, extra: Partial<MetricsCollectorOptions> = {}, failAppend = false) {
  const s = sink(failAppend);
  const { f, calls } = fakeFetch(answer);
  const c = createMetricsCollector({
    prometheusUrl: 'http://prom:9090/',
    cluster: 'prod',
    log: s.log,
    serde: s.serde,
    fetch: f,
    ...extra,
  });
  return { c, calls, ...s };
}

describe('createMetricsCollector', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('evaluates every query at the given time, appends keyed samples, and reports ok and empty', async () => {
    const { c, calls, appended } = make((q) =>
      q === DEFAULT_METRIC_QUERIES.node_memory_utilisation
        ? vector([v({ node: 'n1' }, '0.5')])
        : q === DEFAULT_METRIC_QUERIES.http_request_rate
          ? vector([v({ namespace: 'shop', service: 'api' }, '12.5')])
          : vector([]),
    );
    const res = await c.collectOnce(AT);
    expect(calls.length).toBe(13);
    expect(new Set(calls.map((f) => f.get('time')))).toEqual(new Set(['1795680030.000']));
    expect(new Set(calls.map((f) => f.get('timeout')))).toEqual(new Set(['10000ms']));
    expect(res.samples.map((s) => [s.name, s.labels, s.value, s.ts])).toEqual([
      ['http_request_rate', { namespace: 'shop', service: 'api' }, 12.5, AT],
      ['node_memory_utilisation', { node: 'n1' }, 0.5, AT],
    ]);
    expect(appended.map((a) => [a.topic, a.records.map((r) => [r.key?.toString(), r.timestamp])])).toEqual([
      [
        'hetu.raw.metrics',
        [
          ['prod/shop/api', AT],
          ['prod/node/n1', AT],
        ],
      ],
    ]);
    const st = c.status();
    expect(st).toMatchObject({ prometheus: 'reachable', cycles: 1, lastCycleAt: AT, samplesAppended: 2 });
    expect(st.queries.filter((q) => q.state === 'ok').map((q) => q.name)).toEqual([
      'http_request_rate',
      'node_memory_utilisation',
    ]);
    expect(st.queries.filter((q) => q.state === 'empty').length).toBe(11);
  });

  it('turns query errors, wrong result types and timeouts into per-query status; the rest still flows', async () => {
    const { c } = make(
      (q, _form, signal) => {
        if (q === DEFAULT_METRIC_QUERIES.cpu_usage_cores) {
          return Response.json(
            { status: 'error', errorType: 'bad_data', error: 'parse error at char 3' },
            { status: 400 },
          );
        }
        if (q === DEFAULT_METRIC_QUERIES.node_cpu_utilisation) {
          return Response.json({
            status: 'success',
            data: { resultType: 'scalar', result: [AT / 1000, '1'] },
          });
        }
        if (q === DEFAULT_METRIC_QUERIES.gc_pause_seconds) {
          // hangs until the client gives up
          return new Promise<Response>((_res, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason as Error)),
          );
        }
        if (q === DEFAULT_METRIC_QUERIES.pvc_used_bytes)
          return new Response('<html>bad gateway</html>', { status: 502 });
        return vector([v({ node: 'n1' }, '0.25')]);
      },
      { queryTimeoutMs: 50 },
    );
    await c.collectOnce(AT);
    const st = c.status();
    const by = Object.fromEntries(st.queries.map((q) => [q.name, [q.state, q.message]]));
    expect(by['cpu_usage_cores']).toEqual([
      'error',
      'Prometheus refused the query (HTTP 400, bad_data: parse error at char 3).',
    ]);
    expect(by['node_cpu_utilisation']).toEqual([
      'error',
      'The query gave a scalar result, not an instant vector: write it to return a vector.',
    ]);
    expect(by['gc_pause_seconds']).toEqual([
      'error',
      'Prometheus at http://prom:9090 did not answer within 50 ms.',
    ]);
    expect(by['pvc_used_bytes']).toEqual([
      'error',
      'Prometheus at http://prom:9090 answered HTTP 502 with a body that is not JSON.',
    ]);
    expect(by['node_memory_utilisation']).toEqual(['ok', undefined]);
    expect(st.prometheus).toBe('reachable');
  });

  it('reports an unreachable Prometheus, keeps the last success, and recovers on the next cycle', async () => {
    let down = false;
    const { c } = make(() => {
      if (down)
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        });
      return vector([v({ node: 'n1' }, '0.5')]);
    });
    await c.collectOnce(AT);
    down = true;
    const r2 = await c.collectOnce(AT + 30_000);
    expect(r2).toEqual({ at: AT + 30_000, samples: [], appended: true });
    let st = c.status();
    expect(st.prometheus).toBe('unreachable');
    expect(st.message).toBe(
      'Prometheus at http://prom:9090 is unreachable (fetch failed: connect ECONNREFUSED).',
    );
    expect(
      st.queries.every(
        (q) => q.state === 'error' && q.lastSuccessAt === AT && q.lastEvaluatedAt === AT + 30_000,
      ),
    ).toBe(true);
    down = false;
    await c.collectOnce(AT + 60_000);
    st = c.status();
    expect(st.prometheus).toBe('reachable');
    expect(st.message).toBeUndefined();
    expect(st.cycles).toBe(3);
    expect(st.queries.every((q) => q.message === undefined && q.lastSuccessAt === AT + 60_000)).toBe(true);
  });

  it('counts skipped NaN values and reports a failed append without throwing', async () => {
    const { c } = make(
      (q) =>
        q === DEFAULT_METRIC_QUERIES.http_error_ratio
          ? vector([v({ namespace: 'a', service: 'x' }, 'NaN'), v({ namespace: 'a', service: 'y' }, '0.5')])
          : vector([]),
      {},
      true,
    );
    const res = await c.collectOnce(AT);
    expect(res.appended).toBe(false);
    expect(res.samples.length).toBe(1);
    const st = c.status();
    expect(st.skippedNonFinite).toBe(1);
    expect(st.samplesAppended).toBe(0);
    expect(st.appendError).toBe(
      'Appending 1 samples to hetu.raw.metrics failed (broker down); the next cycle measures again.',
    );
    expect(st.queries.find((q) => q.name === 'http_error_ratio')).toMatchObject({
      state: 'ok',
      samples: 1,
      skippedNonFinite: 1,
    });
  });

  it('start() evaluates at aligned ticks until close()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let clock = AT + 12_345;
    const times: string[] = [];
    const { c } = make(
      (_q, form) => {
        times.push(form.get('time') ?? '');
        return vector([]);
      },
      { now: () => clock, queries: Object.fromEntries(METRIC_NAMES.slice(1).map((n) => [n, null])) },
    );
    c.start();
    c.start();
    expect(c.status().running).toBe(true);
    clock = AT + 30_000;
    await vi.advanceTimersByTimeAsync(30_000 - 12_345);
    clock = AT + 60_000;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(times).toEqual([String((AT + 30_000) / 1000) + '.000', String((AT + 60_000) / 1000) + '.000']);
    await c.close();
    clock = AT + 90_000;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(times.length).toBe(2);
    expect(c.status()).toMatchObject({ running: false, cycles: 2, lastCycleAt: AT + 60_000 });
  });

  it('appends a large cycle in pieces of METRICS_APPEND_RECORDS, in vocabulary order then by key', async () => {
    const pods = (n: number, container: string) =>
      Array.from({ length: n }, (_, i) =>
        v({ namespace: 'big', pod: `p-${String(i).padStart(5, '0')}`, container }, String(i)),
      );
    const { c, appended } = make((q) =>
      q === DEFAULT_METRIC_QUERIES.cpu_usage_cores
        ? vector(pods(2500, 'app'))
        : q === DEFAULT_METRIC_QUERIES.memory_working_set_bytes
          ? vector(pods(600, 'app'))
          : q === DEFAULT_METRIC_QUERIES.coredns_cache_hit_ratio
            ? vector([v({}, '0.5')])
            : vector([]),
    );
    const res = await c.collectOnce(AT);
    expect(res).toMatchObject({ appended: true });
    expect(res.samples.length).toBe(3101);
    expect(appended.map((a) => a.records.length)).toEqual([1000, 1000, 1000, 101]);
    expect(appended.every((a) => a.topic === 'hetu.raw.metrics')).toBe(true);
    const names = appended.flatMap((a) =>
      a.records.map((r) => (JSON.parse(String(r.value)) as { name: string }).name),
    );
    expect(names).toEqual([
      ...Array<string>(2500).fill('cpu_usage_cores'),
      ...Array<string>(600).fill('memory_working_set_bytes'),
      'coredns_cache_hit_ratio',
    ]);
    expect(appended[0]!.records.slice(0, 2).map((r) => r.key?.toString())).toEqual([
      'prod/big/p-00000',
      'prod/big/p-00001',
    ]);
    expect(c.status()).toMatchObject({ samplesAppended: 3101 });
    expect(c.status().appendError).toBeUndefined();
    expect(METRICS_APPEND_RECORDS).toBe(1000);
  });

  it('stops appending a cycle at the first failed piece and reports how many samples were not appended', async () => {
    const s = sink();
    let calls = 0;
    const log = {
      append: async (topic: string, records: readonly AppendRecord[]) => {
        if (++calls === 2) throw new Error('broker down');
        s.appended.push({ topic, records: [...records] });
        return [];
      },
    } as unknown as Log;
    const { f } = fakeFetch((q) =>
      q === DEFAULT_METRIC_QUERIES.cpu_usage_cores
        ? vector(
            Array.from({ length: 2500 }, (_, i) => v({ namespace: 'n', pod: `p${i}`, container: 'c' }, '1')),
          )
        : vector([]),
    );
    const c = createMetricsCollector({
      prometheusUrl: 'http://prom:9090',
      cluster: 'prod',
      log,
      serde: s.serde,
      fetch: f,
    });
    const res = await c.collectOnce(AT);
    expect(res.appended).toBe(false);
    expect(res.samples.length).toBe(2500);
    expect(calls).toBe(2);
    expect(s.appended.map((a) => a.records.length)).toEqual([1000]);
    expect(c.status()).toMatchObject({
      samplesAppended: 1000,
      appendError:
        'Appending 1500 samples to hetu.raw.metrics failed (broker down); the next cycle measures again.',
    });
  });
});
