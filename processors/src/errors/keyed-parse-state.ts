/**
 * Keyed changelog records for the two stateful parts of `errors/parse`: the `Stitcher` (one record
 * per container with a pending occurrence) and the `Fingerprinter`'s template miner (one record
 * per cluster). Their own `toJSON()` snapshots the whole structure, which is too big to write
 * after every batch; these helpers write only what changed and rebuild an identical structure at
 * restore (same clusters, same least-recently-used order, same pending order), so a restored task
 * continues with exactly the fingerprints and occurrences of an uninterrupted one.
 *
 * Both classes keep their per-entry state in private fields; this file reads two of them (the
 * miner's `byId` and `seq`, the stitcher's `pending`) through one checked accessor each, and
 * throws at start-up if their shape ever changes (a programmer error, caught by the tests).
 * Order is mirrored with our own counters (a use tick per cluster, an update tick per pending
 * container), because the classes renumber their internal ticks at `fromJSON`.
 */
import {
  Fingerprinter,
  Stitcher,
  TemplateMiner,
  type MinerOptions,
  type MinerSnapshot,
  type StitcherOptions,
  type StitcherSnapshot,
} from './parse/index.ts';

export type PendingOccurrence = StitcherSnapshot['pending'][number];
type ClusterSnapshot = MinerSnapshot['clusters'][number];

interface ClusterInternals {
  readonly id: string;
  readonly partition: string;
  readonly prefix: string;
  readonly tokens: readonly string[];
  readonly wild: readonly boolean[];
  readonly count: number;
  readonly created: number;
}

/** A map that remembers the keys deleted from it (the miner's evictions). */
class RecordingMap<K, V> extends Map<K, V> {
  removed: K[] = [];
  override delete(key: K): boolean {
    const had = super.delete(key);
    if (had) this.removed.push(key);
    return had;
  }
}

function internalsError(what: string): Error {
  return Object.assign(new Error(`errors processor: ${what} (errors/parse changed its internals).`), {
    code: 'HETU_ERRORS_INTERNALS',
  });
}

/** The changelog value of one template cluster. */
export interface ClusterRecord {
  readonly v: 1;
  /** Our use tick: clusters are restored least recently used first. */
  readonly used: number;
  readonly cluster: ClusterSnapshot;
}

/** A `Fingerprinter` whose clusters can be snapshotted one by one. */
export class KeyedFingerprinter {
  readonly fingerprinter: Fingerprinter;
  private readonly byId: RecordingMap<string, ClusterInternals>;
  private readonly miner: TemplateMiner;
  /** Our use tick per cluster id (mirrors the miner's least-recently-used order). */
  private readonly used = new Map<string, number>();
  private tick: number;

  private constructor(miner: TemplateMiner, used: ReadonlyMap<string, number>, tick: number) {
    this.miner = miner;
    const m = miner as unknown as { byId: unknown; seq: unknown };
    if (!(m.byId instanceof Map) || typeof m.seq !== 'number') {
      throw internalsError('TemplateMiner has no byId/seq');
    }
    this.byId = new RecordingMap(m.byId as Map<string, ClusterInternals>);
    m.byId = this.byId;
    for (const [id, t] of used) this.used.set(id, t);
    this.tick = tick;
    this.fingerprinter = new Fingerprinter({}, miner);
  }

  static create(options: Partial<MinerOptions> = {}): KeyedFingerprinter {
    return new KeyedFingerprinter(new TemplateMiner(options), new Map(), 0);
  }

  /** Rebuilds from cluster records (any order) and the miner's creation counter. */
  static restore(
    options: Partial<MinerOptions>,
    seq: number,
    records: Iterable<ClusterRecord>,
  ): KeyedFingerprinter {
    const list = [...records].sort((a, b) => a.used - b.used);
    const miner = TemplateMiner.fromJSON({
      version: 1,
      options: { ...new TemplateMiner(options).options },
      seq,
      clusters: list.map((r) => r.cluster),
    });
    const used = new Map(list.map((r) => [r.cluster.id, r.used] as const));
    return new KeyedFingerprinter(
      miner,
      used,
      list.length === 0 ? 0 : (list[list.length - 1] as ClusterRecord).used,
    );
  }

  get seq(): number {
    return (this.miner as unknown as { seq: number }).seq;
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Records that the miner was just used for cluster `id` and returns every cluster id whose
   * record changed (the used one and any evicted).
   */
  touched(id: string): string[] {
    const out = [id];
    this.used.set(id, ++this.tick);
    for (const gone of this.byId.removed) {
      this.used.delete(gone);
      if (gone !== id) out.push(gone);
    }
    this.byId.removed = [];
    return out;
  }

  /** The record of a cluster, or null when it is gone. */
  record(id: string): ClusterRecord | null {
    const c = this.byId.get(id);
    const used = this.used.get(id);
    if (c === undefined || used === undefined) return null;
    const wild: number[] = [];
    c.wild.forEach((w, i) => {
      if (w) wild.push(i);
    });
    return {
      v: 1,
      used,
      cluster: {
        id: c.id,
        partition: c.partition,
        prefix: c.prefix,
        tokens: c.tokens.slice(),
        wild,
        count: c.count,
        created: c.created,
      },
    };
  }
}

/** Where a container's lines come from: what an occurrence of it is attributed to. */
export interface ContainerInfo {
  readonly cluster: string;
  readonly namespace: string;
  readonly workload: string;
  readonly pod: string;
  readonly container: string;
}

/** The changelog value of one container with a pending (not yet complete) occurrence. */
export interface PendingRecord {
  readonly v: 1;
  /** Our update tick: pending occurrences are restored least recently updated first. */
  readonly seq: number;
  readonly info: ContainerInfo;
  readonly pending: PendingOccurrence;
}

/** A `Stitcher` whose pending occurrences can be snapshotted per container. */
export class KeyedStitcher {
  readonly stitcher: Stitcher;
  private readonly pending: Map<string, PendingOccurrence>;
  private readonly seqs = new Map<string, number>();
  private readonly infos = new Map<string, ContainerInfo>();
  private tick: number;

  private constructor(stitcher: Stitcher, records: readonly PendingRecord[]) {
    this.stitcher = stitcher;
    const p = (stitcher as unknown as { pending: unknown }).pending;
    if (!(p instanceof Map)) throw internalsError('Stitcher has no pending map');
    this.pending = p as Map<string, PendingOccurrence>;
    for (const r of records) {
      this.seqs.set(r.pending.key, r.seq);
      this.infos.set(r.pending.key, r.info);
    }
    this.tick = records.length === 0 ? 0 : (records[records.length - 1] as PendingRecord).seq;
  }

  static create(options: Partial<StitcherOptions> = {}): KeyedStitcher {
    return new KeyedStitcher(new Stitcher(options), []);
  }

  static restore(options: Partial<StitcherOptions>, records: Iterable<PendingRecord>): KeyedStitcher {
    const list = [...records].sort((a, b) => a.seq - b.seq);
    const stitcher = Stitcher.fromJSON({
      version: 1,
      options: { ...new Stitcher(options).options },
      pending: list.map((r) => r.pending),
    });
    return new KeyedStitcher(stitcher, list);
  }

  get size(): number {
    return this.pending.size;
  }

  info(key: string): ContainerInfo | undefined {
    return this.infos.get(key);
  }

  /**
   * Notes a push of `key`. The keys it completed keep their info until `settle`d, so their
   * occurrences can still be attributed.
   */
  pushed(key: string, info: ContainerInfo): void {
    this.seqs.set(key, ++this.tick);
    this.infos.set(key, info);
  }

  /** Call for every completed occurrence once it was handled; drops what the key no longer needs. */
  settle(key: string): void {
    if (this.pending.has(key)) return;
    this.seqs.delete(key);
    this.infos.delete(key);
  }

  record(key: string): PendingRecord | null {
    const p = this.pending.get(key);
    const seq = this.seqs.get(key);
    const info = this.infos.get(key);
    if (p === undefined || seq === undefined || info === undefined) return null;
    return { v: 1, seq, info, pending: { ...p, lines: p.lines.slice() } };
  }
}
