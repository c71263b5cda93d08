/**
 * Prometheus metrics of the API process on `/metrics` (prom-client, one registry per app, never
 * the global one): HTTP requests, GraphQL operations, subscriptions, and projection lag; and the
 * pipeline's metrics (`createPipelineMetrics`) when the process runs the pipeline. docs/metrics.md.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { Log } from '@hetu/streams';
import type { Projections } from '../projections.ts';

export interface ApiMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status_code'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly operations: Counter<'operation' | 'outcome'>;
  readonly operationDuration: Histogram<'operation'>;
  readonly subscriptions: Gauge;
  readonly commands: Counter<'type'>;
}

/** A registry of its own with Node's process metrics prefixed `prefix` (a process without the API: `hetu run` stages). */
export function processRegistry(prefix: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return registry;
}

export function createMetrics(projections: Projections, opts: { defaultMetrics?: boolean } = {}): ApiMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'hetu_api_' });
  const httpRequests = new Counter({
    name: 'hetu_api_http_requests_total',
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'hetu_api_http_request_duration_seconds',
    help: 'Time to answer an HTTP request.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const operations = new Counter({
    name: 'hetu_api_graphql_operations_total',
    help: 'GraphQL operations, by type (query, mutation, subscription) and outcome (ok, error, rejected).',
    labelNames: ['operation', 'outcome'] as const,
    registers: [registry],
  });
  const operationDuration = new Histogram({
    name: 'hetu_api_graphql_operation_duration_seconds',
    help: 'Time to execute a GraphQL query or mutation (after validation).',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'hetu_api_subscriptions_active',
    help: 'Subscriptions running over WebSocket.',
    registers: [registry],
  });
  const commands = new Counter({
    name: 'hetu_api_commands_total',
    help: 'Commands written to hetu.commands by mutations, by type.',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const lastEvent: Gauge<'projection'> = new Gauge({
    name: 'hetu_projection_last_event_time_seconds',
    help: 'Newest event time a projection applied (seconds since the epoch).',
    labelNames: ['projection'] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  const applied: Gauge<'projection'> = new Gauge({
    name: 'hetu_projection_records_applied',
    help: 'Records a projection applied since its store was created.',
    labelNames: ['projection'] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  // Projection figures are read when scraped (one freshness call for the three gauges).
  let pending: Promise<void> | null = null;
  const refresh = () => {
    pending ??= projections
      .freshness()
      .then((f) => {
        for (const p of f.projections) {
          lag.set({ projection: p.name }, Number(p.lag));
          applied.set({ projection: p.name }, p.recordsApplied);
          if (p.lastEventTime !== null) lastEvent.set({ projection: p.name }, p.lastEventTime / 1000);
        }
      })
      .catch(() => undefined)
      .finally(() => {
        pending = null;
      });
    return pending;
  };
  const lag: Gauge<'projection'> = new Gauge({
    name: 'hetu_projection_lag_records',
    help: "Offsets between a projection's committed positions and the end of its topics.",
    labelNames: ['projection'] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  return { registry, httpRequests, httpDuration, operations, operationDuration, subscriptions, commands };
}

/** A consumer group and the topics it reads (for the lag gauge). */
export interface ConsumerGroupTopics {
  readonly group: string;
  readonly topics: readonly string[];
}

/** What a committed processor batch did (the runtime's `batchCommitted` event, docs/metrics.md). */
export interface ProcessorBatch {
  readonly inputs: Readonly<Record<string, number>>;
  readonly outputs: Readonly<Record<string, number>>;
  readonly deadLetterReasons: readonly { topic: string; reasonCode: string }[];
  readonly skipped: number;
  readonly durationMs: number;
  readonly watermark: number | null;
}

export interface PipelineMetricsOptions {
  readonly log: Log;
  /** The consumer groups whose lag `hetu_consumer_lag_records` reports, asked at each scrape. */
  readonly groups: () => readonly ConsumerGroupTopics[];
  /** The projections (once started): dead letters and LLM token usage as the facts record them. */
  readonly projections?: () => Projections | undefined;
  /**
   * Per stage, the event time below which it has processed all its input (its gate's frontier;
   * docs/design-deterministic-live.md), asked at each scrape; -Infinity (nothing known) is left out.
   */
  readonly frontiers?: () => ReadonlyMap<string, number>;
}

/**
 * The pipeline's own metrics (docs/metrics.md): records in and out per processor and topic, dead
 * letters, batch latency, watermarks (fed by the runtime's `batchCommitted` event), consumer lag
 * per group and topic, and — from the facts, so they count every writer of a scaled deployment —
 * hetu.dlq records and LLM tokens. Register them on the API's registry with `register`.
 */
export interface PipelineMetrics {
  /** Adds every pipeline metric to a registry (the API's, for /metrics). */
  register(registry: Registry): void;
  /** The runtime hook: one committed batch of `processor`. */
  batchCommitted(processor: string, batch: ProcessorBatch): void;
}

export function createPipelineMetrics(opts: PipelineMetricsOptions): PipelineMetrics {
  const recordsIn = new Counter({
    name: 'hetu_processor_records_in_total',
    help: 'Records a processor consumed and committed, by processor and input topic.',
    labelNames: ['processor', 'topic'] as const,
    registers: [],
  });
  const recordsOut = new Counter({
    name: 'hetu_processor_records_out_total',
    help: 'Records a processor appended (facts, tombstones, derived records), by processor and output topic; the changelog and the DLQ are not counted here.',
    labelNames: ['processor', 'topic'] as const,
    registers: [],
  });
  const deadLetters = new Counter({
    name: 'hetu_processor_dead_letters_total',
    help: 'Input records a processor sent to hetu.dlq, by processor, source topic and reason code.',
    labelNames: ['processor', 'topic', 'reason'] as const,
    registers: [],
  });
  const skipped = new Counter({
    name: 'hetu_processor_records_skipped_total',
    help: 'Re-delivered records a processor skipped because their position was already applied.',
    labelNames: ['processor'] as const,
    registers: [],
  });
  const batchDuration = new Histogram({
    name: 'hetu_processor_batch_duration_seconds',
    help: 'Wall-clock time from a batch reaching a processor to its commit (fold, encode, atomic commit).',
    labelNames: ['processor'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [],
  });
  const watermark = new Gauge({
    name: 'hetu_processor_watermark_seconds',
    help: 'Newest event time a processor committed (seconds since the epoch); time() minus it is the event-time lag.',
    labelNames: ['processor'] as const,
    registers: [],
  });
  const lag = new Gauge({
    name: 'hetu_consumer_lag_records',
    help: "Records between a consumer group's committed position and the end of a topic it reads.",
    labelNames: ['group', 'topic'] as const,
    registers: [],
    async collect() {
      const groups = opts.groups();
      const topics = [...new Set(groups.flatMap((g) => g.topics))];
      const infos = new Map((await opts.log.describeTopics(topics)).map((t) => [t.name, t]));
      lag.reset();
      for (const g of groups)
        for (const t of g.topics) {
          const info = infos.get(t);
          if (!info) continue;
          const committed = await opts.log.committed(g.group, t);
          let n = 0n;
          for (const p of info.partitions) {
            const c = committed.get(p.partition);
            const from = c === undefined || c < p.low ? p.low : c;
            if (p.high > from) n += p.high - from;
          }
          lag.set({ group: g.group, topic: t }, Number(n));
        }
    },
  });
  const metrics: Metric[] = [recordsIn, recordsOut, deadLetters, skipped, batchDuration, watermark, lag];
  if (opts.frontiers) {
    const frontiers = opts.frontiers;
    const frontier: Gauge<'stage'> = new Gauge({
      name: 'hetu_stage_frontier_seconds',
      help: 'Event time (seconds since the epoch) below which a stage has processed all its input and committed its outputs; the stages after it wait for it. time() minus it is how far behind the stage is; +Inf once its input is finished.',
      labelNames: ['stage'] as const,
      registers: [],
      collect() {
        frontier.reset();
        for (const [stage, t] of frontiers())
          if (t > Number.NEGATIVE_INFINITY) frontier.set({ stage }, t / 1000);
      },
    });
    metrics.push(frontier);
  }
  const stores = () => opts.projections?.()?.stores;
  if (opts.projections) {
    // Counters whose values the projections hold: set at each scrape from the stores.
    const dlq: Counter<'processor' | 'reason'> = new Counter({
      name: 'hetu_dlq_records_total',
      help: 'Records in hetu.dlq as the status projection counted them, by the processor (or feeder) that wrote them and reason code.',
      labelNames: ['processor', 'reason'] as const,
      registers: [],
      collect() {
        dlq.reset();
        for (const c of stores()?.status.deadLetterCounts() ?? [])
          dlq.inc({ processor: c.processor, reason: c.reasonCode }, c.count);
      },
    });
    const tokens: Counter<'kind'> = new Counter({
      name: 'hetu_llm_tokens_total',
      help: 'LLM tokens used (input, output), summed over the days the hetu.facts.llm-usage facts hold.',
      labelNames: ['kind'] as const,
      registers: [],
      collect() {
        tokens.reset();
        const days = stores()?.llm.usage(Number.MAX_SAFE_INTEGER) ?? [];
        tokens.inc(
          { kind: 'input' },
          days.reduce((s, d) => s + d.inputTokens, 0),
        );
        tokens.inc(
          { kind: 'output' },
          days.reduce((s, d) => s + d.outputTokens, 0),
        );
      },
    });
    const calls: Counter = new Counter({
      name: 'hetu_llm_calls_total',
      help: 'LLM calls made, summed over the days the hetu.facts.llm-usage facts hold.',
      registers: [],
      collect() {
        calls.reset();
        calls.inc((stores()?.llm.usage(Number.MAX_SAFE_INTEGER) ?? []).reduce((s, d) => s + d.calls, 0));
      },
    });
    const today: Gauge<'kind'> = new Gauge({
      name: 'hetu_llm_tokens_today',
      help: 'LLM tokens used on the newest UTC day of the usage facts (input, output); compare with hetu_llm_daily_budget_tokens.',
      labelNames: ['kind'] as const,
      registers: [],
      collect() {
        const [d] = stores()?.llm.usage(1) ?? [];
        today.set({ kind: 'input' }, d?.inputTokens ?? 0);
        today.set({ kind: 'output' }, d?.outputTokens ?? 0);
      },
    });
    const budget: Gauge = new Gauge({
      name: 'hetu_llm_daily_budget_tokens',
      help: 'The daily LLM token budget (input + output) recorded with the newest usage fact; absent before the first call.',
      registers: [],
      collect() {
        const [d] = stores()?.llm.usage(1) ?? [];
        if (d) budget.set(d.limit);
      },
    });
    metrics.push(dlq, tokens, calls, today, budget);
  }
  return {
    register(registry) {
      for (const m of metrics) registry.registerMetric(m);
    },
    batchCommitted(processor, b) {
      for (const [topic, n] of Object.entries(b.inputs)) recordsIn.inc({ processor, topic }, n);
      for (const [topic, n] of Object.entries(b.outputs)) recordsOut.inc({ processor, topic }, n);
      for (const d of b.deadLetterReasons)
        deadLetters.inc({ processor, topic: d.topic, reason: d.reasonCode });
      if (b.skipped > 0) skipped.inc({ processor }, b.skipped);
      batchDuration.observe({ processor }, b.durationMs / 1000);
      if (b.watermark !== null) watermark.set({ processor }, b.watermark / 1000);
    },
  };
}
