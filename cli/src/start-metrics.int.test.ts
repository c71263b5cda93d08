/**
 * The pipeline metrics on /metrics (docs/metrics.md), measured against real work: `hetu start`
 * in-process on the embedded log feeds a recording (log lines, metric samples, a watch event the
 * kube processor cannot read, a line that is not JSON) with the LLM worker talking to a local
 * OpenAI-compatible server; every figure scraped is compared with what the log and the API hold.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeLlmServer, type FakeLlmScript } from '@hetu/producers/llm';
import { parseGlobalConfig } from './config.ts';
import { runStart } from './commands/start.ts';
import { openBackend } from './backend.ts';
import { parseExposition, type Sample } from '../../infra/src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-start-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-26T08:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

const of = (samples: Sample[], name: string) => samples.filter((s) => s.name === name);
const one = (samples: Sample[], name: string, labels: Record<string, string> = {}) => {
  const found = of(samples, name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]!.value;
};

const INPUT_TOKENS = 5_000;
const OUTPUT_TOKENS = 300;

/** A well-behaved model with fixed token counts per call. */
const model: FakeLlmScript = (r) => {
  const system = (r.body as { messages: { content: string }[] }).messages[0]!.content;
  const usage = { prompt_tokens: INPUT_TOKENS, completion_tokens: OUTPUT_TOKENS };
  if (system.includes('group of application errors'))
    return {
      usage,
      content: JSON.stringify({
        rootCause: 'The payment gateway does not answer.',
        impact: 'Checkouts fail.',
        fix: 'Restore the gateway.',
        severity: 'high',
        confidence: 0.6,
      }),
    };
  return {
    usage,
    content: JSON.stringify({
      summary: 'Second opinion.',
      rootCause: { description: 'As the deterministic analysis says.', confidence: 0.7 },
      contributingFactors: [],
      remediation: [],
      evidenceIds: [],
    }),
  };
};

async function recordCounts(dataDir: string): Promise<Map<string, number>> {
  const backend = await openBackend(parseGlobalConfig({ dataDir }, {}));
  try {
    const out = new Map<string, number>();
    for (const t of await backend.log.describeTopics()) {
      let n = 0;
      for (const p of t.partitions)
        for (let from = p.low; from < p.high; ) {
          const chunk = await backend.log.read(t.name, p.partition, { fromOffset: from, maxRecords: 20_000 });
          if (chunk.length === 0) break;
          n += chunk.length;
          from = chunk[chunk.length - 1]!.offset + 1n;
        }
      out.set(t.name, n);
    }
    return out;
  } finally {
    await backend.close();
  }
}

describe('hetu start: pipeline metrics on /metrics', () => {
  it('counts records in and out, dead letters, latency, lag and LLM tokens as the log and the API hold them', async () => {
    const lines: string[] = [];
    lines.push(
      JSON.stringify({
        ts: iso(0),
        cluster: 'm',
        kind: 'watch',
        type: 'ADDED',
        object: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'checkout-1', namespace: 'shop', uid: 'u1', labels: { app: 'checkout' } },
          spec: { containers: [{ name: 'checkout', image: 'shop/checkout:1' }], nodeName: 'n1' },
          status: { phase: 'Running' },
        },
      }),
    );
    // A Pod without a namespace: the recording reader takes it, the kube processor cannot read it.
    lines.push(
      JSON.stringify({
        ts: iso(500),
        cluster: 'm',
        kind: 'watch',
        type: 'ADDED',
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', uid: 'u2' } },
      }),
    );
    const logLines = 40;
    const metricLines = 60;
    for (let i = 0; i < metricLines; i++) {
      lines.push(
        JSON.stringify({
          ts: iso(1_000 + i * 1_000),
          cluster: 'm',
          kind: 'metric',
          name: 'cpu_usage_cores',
          labels: { namespace: 'shop', pod: 'checkout-1', container: 'checkout' },
          value: 0.2 + (i % 5) / 100,
        }),
      );
      if (i < logLines)
        lines.push(
          JSON.stringify({
            ts: iso(1_000 + i * 1_000 + 500),
            cluster: 'm',
            kind: 'log',
            namespace: 'shop',
            pod: 'checkout-1',
            container: 'checkout',
            line: `2026-11-26 08:00:${String(1 + i).padStart(2, '0')} ERROR payment gateway timeout after ${3000 + i} ms order=${1000 + i}`,
          }),
        );
      if (i === 10) lines.push('not json');
    }
    const recording = join(dir, 'work.jsonl');
    writeFileSync(recording, `${lines.join('\n')}\n`);

    const llm = await startFakeLlmServer({ script: model });
    const out: string[] = [];
    const ac = new AbortController();
    let listening!: (url: string) => void;
    const urlP = new Promise<string>((r) => (listening = r));
    const done = runStart(parseGlobalConfig({ dataDir: join(dir, 'data'), output: 'table' }, {}), {
      out: { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream,
      signal: ac.signal,
      recording,
      speed: 1_000_000,
      port: 0,
      webRoot: null,
      llm: {
        config: {
          baseUrl: llm.baseUrl,
          model: 'fake-model',
          maxOutputTokens: 1_000,
          dailyTokens: 10_000_000,
          retryBaseDelayMs: 1,
        },
      },
      onListening: (u) => listening(u),
    });
    try {
      const url = await Promise.race([
        urlP,
        done.then(() => Promise.reject(new Error('start stopped early'))),
      ]);
      const scrape = async () => parseExposition(await (await fetch(`${url}/metrics`)).text());
      const gql = async (query: string) =>
        (
          (await (
            await fetch(`${url}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ query }),
            })
          ).json()) as { data: Record<string, never> }
        ).data;

      const status = async () =>
        (
          (await gql(
            '{ pipeline { topics { name records } deadLetters { byReason { processor reasonCode count } } } }',
          )) as unknown as { pipeline: Record<string, unknown> }
        ).pipeline;
      const topicRecords = (p: Record<string, unknown>) =>
        new Map(
          (p['topics'] as { name: string; records: string | number }[]).map((t) => [
            t.name,
            Number(t.records),
          ]),
        );

      // Settled: the recording fed, every LLM call the server answered counted by the usage facts,
      // every group at lag 0, and no topic growing around the scrape, twice in a row.
      let s: Sample[] = [];
      let pipeline: Record<string, unknown> = {};
      let quiet = 0;
      for (let i = 0; i < 600 && quiet < 2; i++) {
        const before = JSON.stringify([...topicRecords(await status())]);
        s = await scrape();
        pipeline = await status();
        const lag = of(s, 'hetu_consumer_lag_records').reduce((a, x) => a + x.value, 0);
        const calls = of(s, 'hetu_llm_calls_total')[0]?.value ?? 0;
        const fed = out.join('').includes('recording fed:');
        const still = before === JSON.stringify([...topicRecords(pipeline)]);
        quiet = fed && lag === 0 && still && calls > 0 && calls === llm.chatRequests().length ? quiet + 1 : 0;
        if (quiet < 2) await new Promise((r) => setTimeout(r, 250));
      }
      expect(quiet).toBe(2);
      // Stop, then count what the topics hold (records read: the embedded log's transaction
      // markers take offsets too, so end − start is not a record count).
      ac.abort();
      await done;
      const records = await recordCounts(join(dir, 'data'));

      // Records in: a group that read a topic from its start consumed every record in it.
      const ins = of(s, 'hetu_processor_records_in_total');
      expect(ins.length).toBeGreaterThan(5);
      for (const x of ins) expect([x.labels, x.value]).toEqual([x.labels, records.get(x.labels['topic']!)]);
      expect(one(s, 'hetu_processor_records_in_total', { processor: 'errors', topic: 'hetu.raw.logs' })).toBe(
        logLines,
      );
      expect(
        one(s, 'hetu_processor_records_in_total', { processor: 'anomalies', topic: 'hetu.raw.metrics' }),
      ).toBe(metricLines);
      expect(records.get('hetu.raw.kube')).toBe(2);

      // Records out: every record of a topic the stages write was counted once, by its writer.
      const outs = of(s, 'hetu_processor_records_out_total');
      const outTopics = [...new Set(outs.map((x) => x.labels['topic']!))];
      expect(outTopics).toEqual(expect.arrayContaining(['hetu.facts.error-groups', 'hetu.llm.requests']));
      for (const t of outTopics) {
        const sum = outs.filter((x) => x.labels['topic'] === t).reduce((a, x) => a + x.value, 0);
        expect([t, sum]).toEqual([t, records.get(t)]);
      }

      // Dead letters: the processor's by source topic and reason; hetu.dlq's as the API counts them.
      expect(
        one(s, 'hetu_processor_dead_letters_total', {
          processor: 'kube',
          topic: 'hetu.raw.kube',
          reason: 'HETU_INPUT_INVALID',
        }),
      ).toBe(1);
      const { byReason } = pipeline['deadLetters'] as {
        byReason: { processor: string; reasonCode: string; count: number }[];
      };
      expect(byReason.map((d) => d.processor)).toEqual(expect.arrayContaining(['kube', 'recording']));
      for (const d of byReason) {
        const labels = { processor: d.processor, reason: d.reasonCode };
        expect([labels, one(s, 'hetu_dlq_records_total', labels)]).toEqual([labels, Number(d.count)]);
        // The recording feeder is no processor; every processor's dead letter was counted as it committed.
        if (d.processor !== 'recording') {
          const counted = of(s, 'hetu_processor_dead_letters_total')
            .filter((x) => x.labels['processor'] === d.processor && x.labels['reason'] === d.reasonCode)
            .reduce((a, x) => a + x.value, 0);
          expect([labels, counted]).toEqual([labels, Number(d.count)]);
        }
      }
      expect(one(s, 'hetu_dlq_records_total', { processor: 'recording' })).toBe(1);
      expect(of(s, 'hetu_dlq_records_total').reduce((a, x) => a + x.value, 0)).toBe(records.get('hetu.dlq'));

      // Latency: one observation per committed batch; watermarks at the newest event time read.
      for (const x of of(s, 'hetu_processor_batch_duration_seconds_count'))
        expect(x.value).toBeGreaterThan(0);
      expect(
        one(s, 'hetu_processor_batch_duration_seconds_count', { processor: 'errors' }),
      ).toBeLessThanOrEqual(logLines);
      expect(one(s, 'hetu_processor_batch_duration_seconds_sum', { processor: 'errors' })).toBeGreaterThan(0);
      expect(one(s, 'hetu_processor_watermark_seconds', { processor: 'errors' })).toBe(
        (T0 + 1_000 + (logLines - 1) * 1_000 + 500) / 1000,
      );
      expect(one(s, 'hetu_processor_watermark_seconds', { processor: 'anomalies' })).toBe(
        (T0 + 1_000 + (metricLines - 1) * 1_000) / 1000,
      );

      // Lag: every stage group (the feed stage's group is feed-by-cluster), the LLM worker, all at 0.
      const STAGES = [
        'kube',
        'errors',
        'anomalies',
        'feed',
        'incidents',
        'recommendations',
        'scoring-feed',
        'scoring-namespaces',
        'scoring-cluster',
        'llm-requests',
      ];
      const lagGroups = new Set(of(s, 'hetu_consumer_lag_records').map((x) => x.labels['group']));
      expect(lagGroups).toEqual(
        new Set([...STAGES.map((n) => (n === 'feed' ? 'feed-by-cluster' : n)), 'llm-worker']),
      );

      // Frontiers: the recording is fed to its end, and every stage processed all of it, so every
      // stage's input is complete for good.
      const frontiers = of(s, 'hetu_stage_frontier_seconds');
      expect(new Set(frontiers.map((x) => x.labels['stage']))).toEqual(new Set(STAGES));
      for (const f of frontiers) expect([f.labels['stage'], f.value]).toEqual([f.labels['stage'], Infinity]);

      // LLM tokens: what the server reported for every call it answered.
      const calls = llm.chatRequests().length;
      console.log(
        `pipeline metrics: ${ins.reduce((a, x) => a + x.value, 0)} records in, ${outs.reduce((a, x) => a + x.value, 0)} out, ${calls} LLM calls`,
      );
      expect(one(s, 'hetu_llm_calls_total')).toBe(calls);
      expect(one(s, 'hetu_llm_tokens_total', { kind: 'input' })).toBe(INPUT_TOKENS * calls);
      expect(one(s, 'hetu_llm_tokens_total', { kind: 'output' })).toBe(OUTPUT_TOKENS * calls);
      expect(one(s, 'hetu_llm_tokens_today', { kind: 'input' })).toBe(INPUT_TOKENS * calls);
      expect(one(s, 'hetu_llm_daily_budget_tokens')).toBe(10_000_000);
    } finally {
      ac.abort();
      await done;
      await llm.close();
    }
  });
});
