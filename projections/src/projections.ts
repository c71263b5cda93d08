/**
 * Runs the projection stores: each store subscribes to its topics as its own consumer group
 * through the Log port, decodes records with the Serde and applies them (position-guarded, in one
 * SQLite transaction per batch), then tells its listeners what changed (subscriptions are pushed
 * from here: no polling). It also answers how fresh every store is (applied and committed
 * positions, lag against the end offsets, newest event time) and waits, bounded, until a written
 * position (a command) has gone through the processors and into the stores.
 */
import type { RecordName, Serde } from '@hetu/schemas';
import { HetuError, isTransient, type Log, type LogRecord, type Subscription } from '@hetu/streams';
import { AnomaliesStore } from './store/anomalies.ts';
import { ErrorsStore } from './store/errors.ts';
import { IncidentsStore } from './store/incidents.ts';
import { LlmStore } from './store/llm.ts';
import { RecommendationsStore } from './store/recommendations.ts';
import { ScoresStore } from './store/scores.ts';
import { StatusStore } from './store/status.ts';
import type { DecodedRecord, ProjectionChange, ProjectionStore } from './store/store.ts';
import { WorkloadsStore } from './store/workloads.ts';

/** The Avro record each projected topic is read as; other topics are read with the writer's schema. */
const READER_RECORDS: Readonly<Record<string, RecordName>> = {
  'hetu.facts.scores': 'ScopeScore',
  'hetu.facts.score-history': 'ScoreChanged',
  'hetu.facts.error-groups': 'ErrorGroup',
  'hetu.facts.anomalies': 'AnomalyEpisode',
  'hetu.facts.incidents': 'Incident',
  'hetu.facts.rca': 'RcaReport',
  'hetu.facts.recommendations': 'Recommendation',
  'hetu.facts.pod-health': 'PodHealth',
  'hetu.facts.node-health': 'NodeHealth',
  'hetu.raw.kube': 'WatchObserved',
  'hetu.dlq': 'DeadLetter',
  'hetu.commands': 'Command',
};

export interface Stores {
  readonly scores: ScoresStore;
  readonly errors: ErrorsStore;
  readonly anomalies: AnomaliesStore;
  readonly incidents: IncidentsStore;
  readonly recommendations: RecommendationsStore;
  readonly workloads: WorkloadsStore;
  readonly llm: LlmStore;
  readonly status: StatusStore;
}

export interface ProjectionsOptions {
  readonly log: Log;
  readonly serde: Serde;
  /** Directory for the stores' SQLite files (one per store); absent: in memory (rebuilt on start). */
  readonly dataDir?: string;
  /** Prefix of the consumer groups; each store's group is `<prefix>.<store>.<store id>`. Default `hetu.projection`. */
  readonly groupPrefix?: string;
  /** Records per batch. Default 1 000. */
  readonly maxBatchRecords?: number;
  /** Told about a record a store could not decode (it is skipped). */
  readonly onSkip?: (store: string, record: LogRecord, err: unknown) => void;
  /** Wall clock, for lastAppliedAt and wait deadlines. Default Date.now. */
  readonly now?: () => number;
}

/** One partition of one input of a store. */
export interface PartitionFreshness {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the last record applied, or null. */
  readonly applied: bigint | null;
  /** Next offset the store's consumer group reads. */
  readonly committed: bigint;
  /** End offset of the partition now. */
  readonly end: bigint;
  /** Records (offsets) between the committed position and the end. */
  readonly lag: bigint;
  /** Timestamp of the last record applied, or null. */
  readonly lastEventTime: number | null;
}

export interface ProjectionFreshness {
  readonly name: string;
  readonly group: string;
  readonly topics: readonly string[];
  readonly caughtUp: boolean;
  readonly lag: bigint;
  readonly lastEventTime: number | null;
  /** Wall-clock time of the last batch applied, or null. */
  readonly lastAppliedAt: number | null;
  readonly recordsApplied: number;
  readonly skipped: number;
  readonly running: boolean;
  readonly partitions: readonly PartitionFreshness[];
}

export interface FreshnessReport {
  readonly caughtUp: boolean;
  readonly lag: bigint;
  readonly lastEventTime: number | null;
  readonly projections: readonly ProjectionFreshness[];
}

export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** A processor whose committed positions a wait follows (`name` is its consumer group). */
export interface ProcessorInfo {
  readonly name: string;
  readonly inputs: readonly string[];
}

export type ChangeListener = (changes: readonly ProjectionChange[]) => void;

interface Running {
  readonly store: ProjectionStore;
  readonly group: string;
  readonly topics: readonly string[];
  subscription: Subscription | undefined;
  lastAppliedAt: number | null;
  decodeSkips: number;
}

export class Projections {
  readonly stores: Stores;
  private readonly opts: ProjectionsOptions;
  private readonly running: Running[] = [];
  private readonly listeners = new Set<ChangeListener>();
  private readonly waiters = new Set<() => void>();
  private caughtUpOnce = false;
  private closed = false;

  private constructor(opts: ProjectionsOptions) {
    this.opts = opts;
    const dir = opts.dataDir;
    this.stores = {
      scores: new ScoresStore(dir),
      errors: new ErrorsStore(dir),
      anomalies: new AnomaliesStore(dir),
      incidents: new IncidentsStore(dir),
      recommendations: new RecommendationsStore(dir),
      workloads: new WorkloadsStore(dir),
      llm: new LlmStore(dir),
      status: new StatusStore(dir),
    };
  }

  /** Opens the stores and subscribes each to its topics (those of its optional topics that exist). */
  static async start(opts: ProjectionsOptions): Promise<Projections> {
    const p = new Projections(opts);
    try {
      await p.subscribeAll();
    } catch (err) {
      await p.close();
      throw err;
    }
    return p;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private async decode(topic: string, value: Buffer): Promise<unknown> {
    const name = READER_RECORDS[topic];
    if (name !== undefined) return this.opts.serde.decode(value, name);
    return (await this.opts.serde.decodeWithWriterSchema(value)).value;
  }

  private async subscribeAll(): Promise<void> {
    const { log } = this.opts;
    const existing = new Set((await log.describeTopics()).map((t) => t.name));
    const prefix = this.opts.groupPrefix ?? 'hetu.projection';
    for (const store of Object.values(this.stores) as ProjectionStore[]) {
      const topics = [
        ...store.topics.filter((t) => existing.has(t)),
        ...store.optionalTopics.filter((t) => existing.has(t)),
      ];
      const missing = store.topics.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        throw new HetuError(
          'HETU_PROJECTION_NO_TOPIC',
          `The ${store.name} projection reads ${missing.join(', ')}, which the log does not have: create the catalogue's topics first ('hetu topics --create').`,
        );
      }
      const run: Running = {
        store,
        group: `${prefix}.${store.name}.${store.storeId}`,
        topics,
        subscription: undefined,
        lastAppliedAt: null,
        decodeSkips: 0,
      };
      this.running.push(run);
      if (topics.length === 0) continue;
      run.subscription = await log.subscribe({
        group: run.group,
        topics,
        fromBeginning: true,
        maxBatchRecords: this.opts.maxBatchRecords ?? 1000,
        onError: (err) => (isTransient(err) ? 'retry' : 'stop'),
        handler: async (batch) => {
          const decoded: DecodedRecord[] = [];
          for (const rec of batch.records) {
            let value: unknown = null;
            if (rec.value !== null) {
              try {
                value = await this.decode(rec.topic, rec.value);
              } catch (err) {
                if (isTransient(err)) throw err;
                run.decodeSkips++;
                this.opts.onSkip?.(store.name, rec, err);
                continue;
              }
            }
            decoded.push({
              topic: rec.topic,
              partition: rec.partition,
              offset: rec.offset,
              key: rec.key?.toString('utf8') ?? '',
              timestamp: rec.timestamp,
              value,
            });
          }
          const changes = store.applyBatch(decoded);
          run.lastAppliedAt = this.now();
          if (changes.length > 0) this.emit(changes);
          this.wake();
        },
      });
    }
  }

  private emit(changes: readonly ProjectionChange[]): void {
    for (const l of this.listeners) {
      try {
        l(changes);
      } catch {
        // A listener's failure must not stall the projection.
      }
    }
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Calls `listener` with what every applied batch changed; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Consumer groups of the stores. */
  groups(): { store: string; group: string; topics: readonly string[] }[] {
    return this.running.map((r) => ({ store: r.store.name, group: r.group, topics: r.topics }));
  }

  /** Resolves once every store applied everything its topics held when this was called. */
  async whenCaughtUp(timeoutMs = 60_000): Promise<void> {
    for (const r of this.running) await r.subscription?.whenCaughtUp(timeoutMs);
    this.caughtUpOnce = true;
  }

  /** True once `whenCaughtUp` resolved at least once (the readiness of `/readyz`). */
  get ready(): boolean {
    return this.caughtUpOnce && !this.closed;
  }

  /** Every store's freshness, or only the named stores'. */
  async freshness(names?: readonly string[]): Promise<FreshnessReport> {
    const runs = this.running.filter((r) => names === undefined || names.includes(r.store.name));
    const topics = [...new Set(runs.flatMap((r) => r.topics))];
    const infos = new Map((await this.opts.log.describeTopics(topics)).map((t) => [t.name, t]));
    const projections: ProjectionFreshness[] = [];
    for (const r of runs) {
      const applied = new Map(r.store.applied().map((a) => [`${a.topic}\u0000${a.partition}`, a]));
      const partitions: PartitionFreshness[] = [];
      let records = 0;
      for (const a of applied.values()) records += a.records;
      for (const topic of r.topics) {
        const committed = await this.opts.log.committed(r.group, topic);
        for (const p of infos.get(topic)?.partitions ?? []) {
          const a = applied.get(`${topic}\u0000${p.partition}`);
          let c = committed.get(p.partition) ?? p.low;
          if (c < p.low) c = p.low;
          const lag = p.high > c ? p.high - c : 0n;
          partitions.push({
            topic,
            partition: p.partition,
            applied: a?.offset ?? null,
            committed: c,
            end: p.high,
            lag,
            lastEventTime: a?.ts ?? null,
          });
        }
      }
      const lag = partitions.reduce((s, p) => s + p.lag, 0n);
      const last = partitions.reduce<number | null>(
        (m, p) => (p.lastEventTime !== null && (m === null || p.lastEventTime > m) ? p.lastEventTime : m),
        null,
      );
      projections.push({
        name: r.store.name,
        group: r.group,
        topics: r.topics,
        caughtUp: lag === 0n,
        lag,
        lastEventTime: last,
        lastAppliedAt: r.lastAppliedAt,
        recordsApplied: records,
        skipped: r.store.skipped + r.decodeSkips,
        running: r.subscription !== undefined && !this.closed,
        partitions,
      });
    }
    const lag = projections.reduce((s, p) => s + p.lag, 0n);
    const last = projections.reduce<number | null>(
      (m, p) => (p.lastEventTime !== null && (m === null || p.lastEventTime > m) ? p.lastEventTime : m),
      null,
    );
    return { caughtUp: lag === 0n, lag, lastEventTime: last, projections };
  }

  /** The newest event time any store applied (the projections' watermark), or null. */
  watermark(): number | null {
    let max: number | null = null;
    for (const r of this.running) {
      const t = r.store.lastEventTime();
      if (t !== null && (max === null || t > max)) max = t;
    }
    return max;
  }

  /**
   * Waits until a written position has gone through: every processor reading its topic committed
   * past it, then each processor (in the order given: upstream first) caught up with the ends its
   * inputs had at that moment, then every store caught up with the ends its topics had after that.
   * Rejects with HETU_API_FRESHNESS_TIMEOUT after `timeoutMs`.
   */
  async waitFor(
    position: LogPosition,
    opts: { timeoutMs: number; processors?: readonly ProcessorInfo[] },
  ): Promise<FreshnessReport> {
    const deadline = this.now() + opts.timeoutMs;
    const { log } = this.opts;
    const committedPast = async (group: string, topic: string, partition: number, offset: bigint) =>
      ((await log.committed(group, topic)).get(partition) ?? 0n) > offset;
    const caughtUpWith = async (group: string, topics: readonly string[]) => {
      const infos = await log.describeTopics(topics);
      const targets = infos.flatMap((t) =>
        t.partitions.map((p) => ({ topic: t.name, partition: p.partition, end: p.high })),
      );
      await this.until(deadline, async () => {
        for (const t of targets) {
          if (t.end === 0n) continue;
          const c = (await log.committed(group, t.topic)).get(t.partition) ?? 0n;
          if (c < t.end) return false;
        }
        return true;
      });
    };
    const processors = opts.processors ?? [];
    for (const p of processors.filter((x) => x.inputs.includes(position.topic)))
      await this.until(deadline, () =>
        committedPast(p.name, position.topic, position.partition, position.offset),
      );
    for (const r of this.running.filter((x) => x.topics.includes(position.topic)))
      await this.until(deadline, () =>
        committedPast(r.group, position.topic, position.partition, position.offset),
      );
    for (const p of processors) await caughtUpWith(p.name, p.inputs);
    for (const r of this.running) if (r.topics.length > 0) await caughtUpWith(r.group, r.topics);
    return this.freshness();
  }

  /** Re-checks `ok` whenever a store applied a batch (and every 25 ms for the processors) until the deadline. */
  private async until(deadline: number, ok: () => Promise<boolean>): Promise<void> {
    for (;;) {
      if (await ok()) return;
      if (this.closed)
        throw new HetuError('HETU_PROJECTION_CLOSED', 'The projections were closed while waiting.');
      const left = deadline - this.now();
      if (left <= 0) {
        throw new HetuError(
          'HETU_API_FRESHNESS_TIMEOUT',
          'The projections did not reach the requested position in time: ask again with a longer timeoutMs, or read without waiting.',
        );
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(25, left));
        this.waiters.add(done);
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.running.map((r) => r.subscription?.close()));
    this.wake();
    for (const s of Object.values(this.stores) as ProjectionStore[]) s.close();
  }
}
