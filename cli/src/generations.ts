/**
 * Generations of derived topics (docs/replay.md). `hetu replay` re-runs stages into fresh
 * topics named `<topic>.g<N>` and consumer groups named `<group>.g<N>`; a compacted control topic,
 * `hetu.meta.generations`, says which physical topic every logical name resolves to. Readers (the
 * projections, the stages of `hetu start`, `hetu tail`) go through `mappedLog(log, mapping)` and
 * keep using the logical names. Generation 1 is the original, unsuffixed topics: an empty mapping.
 */
import { join } from 'node:path';
import { HetuError } from '@hetu/streams';
import type {
  Batch,
  Log,
  LogRecord,
  ReadOptions,
  SubscribeOptions,
  Subscription,
  TopicInfo,
  TopicSpec,
} from '@hetu/streams';

/** The control topic: compacted, one partition, JSON values. */
export const GENERATIONS_TOPIC = 'hetu.meta.generations';

/** Logical name → physical name, for topics and for consumer groups. Absent names map to themselves. */
export interface GenerationMapping {
  readonly topics: Readonly<Record<string, string>>;
  readonly groups: Readonly<Record<string, string>>;
}

export const EMPTY_MAPPING: GenerationMapping = Object.freeze({ topics: {}, groups: {} });

export type GenerationStatus = 'running' | 'verified' | 'failed';

/** What a replay wrote, as stored under key `generation/<N>` of the control topic. */
export interface GenerationRecord {
  readonly generation: number;
  readonly status: GenerationStatus;
  /** Wall-clock ISO time the replay began (infrastructure time, not event time). */
  readonly createdAt: string;
  /** The window as given and as resolved (inclusive bounds). */
  readonly window: {
    readonly from: string;
    readonly to: string | null;
    readonly fromMs: number | null;
    readonly toMs: number | null;
    readonly fromOffset: string | null;
    readonly toOffset: string | null;
  };
  /** Stage names, in pipeline order. */
  readonly stages: readonly string[];
  /** The mapping readers get when switched to this generation. */
  readonly mapping: GenerationMapping;
  /** Generation active when the replay began: what its inherited inputs came from. */
  readonly basedOn: number;
  /** True when `--to` cut the input short: such a generation is not switched to (docs/replay.md). */
  readonly bounded: boolean;
  readonly verification?: unknown;
}

/** The key `active`: the generation readers resolve through. */
export interface ActiveRecord {
  readonly generation: number;
  readonly mapping: GenerationMapping;
  readonly switchedAt: string;
  readonly previous: number;
}

/**
 * What `hetu replay --prune <N>` deleted, under key `pruned/<N>` (generation 1 has no
 * `generation/1` record, so the mark is a key of its own). Written before the deletion starts.
 */
export interface PrunedRecord {
  readonly generation: number;
  /** Wall-clock ISO time of the prune. */
  readonly prunedAt: string;
  /** Physical topics and consumer groups deleted. */
  readonly topics: readonly string[];
  readonly groups: readonly string[];
}

export interface GenerationsState {
  readonly active: ActiveRecord;
  readonly generations: ReadonlyMap<number, GenerationRecord>;
  /** Pruned generations: their topics and groups are gone, they cannot be switched to. */
  readonly pruned: ReadonlyMap<number, PrunedRecord>;
}

/** The physical name of a logical topic or group in generation `n` (1: the name itself). */
export function physicalName(logical: string, n: number): string {
  return n <= 1 ? logical : `${logical}.g${n}`;
}

/** Creates the control topic if it is missing. */
export async function ensureGenerationsTopic(log: Log): Promise<void> {
  await log.ensureTopics([{ name: GENERATIONS_TOPIC, partitions: 1, cleanupPolicy: 'compact' }]);
}

/** Reads a topic of utf-8 keys to its newest value per key (a tombstone removes the key). */
export async function latestValues(log: Log, topic: string): Promise<Map<string, Buffer>> {
  const latest = new Map<string, Buffer>();
  const [info] = await log.describeTopics([topic]);
  for (const p of info?.partitions ?? []) {
    let from = p.low;
    while (from < p.high) {
      const chunk = await log.read(topic, p.partition, { fromOffset: from, maxRecords: 10_000 });
      if (chunk.length === 0) break;
      for (const r of chunk) {
        const key = r.key?.toString('utf8');
        if (key === undefined) continue;
        if (r.value === null) latest.delete(key);
        else latest.set(key, r.value);
      }
      from = chunk[chunk.length - 1]!.offset + 1n;
    }
  }
  return latest;
}

/** Reads the control topic: the active generation (1 when none was ever switched) and every replay's record. */
export async function readGenerations(log: Log): Promise<GenerationsState> {
  const latest = new Map<string, unknown>();
  for (const [k, v] of await latestValues(log, GENERATIONS_TOPIC))
    latest.set(k, JSON.parse(v.toString('utf8')));
  const generations = new Map<number, GenerationRecord>();
  const pruned = new Map<number, PrunedRecord>();
  for (const [k, v] of latest)
    if (k.startsWith('generation/')) generations.set(Number(k.slice(11)), v as GenerationRecord);
    else if (k.startsWith('pruned/')) pruned.set(Number(k.slice(7)), v as PrunedRecord);
  const active = (latest.get('active') as ActiveRecord | undefined) ?? {
    generation: 1,
    mapping: EMPTY_MAPPING,
    switchedAt: '',
    previous: 1,
  };
  return { active, generations, pruned };
}

/** The mapping readers use now. */
export async function activeMapping(log: Log): Promise<{ generation: number; mapping: GenerationMapping }> {
  const { active } = await readGenerations(log);
  return { generation: active.generation, mapping: active.mapping };
}

/** The next free generation number (2 for the first replay). */
export function nextGeneration(state: GenerationsState): number {
  return Math.max(1, state.active.generation, ...state.generations.keys()) + 1;
}

/** Stores (or updates) a replay's record. */
export async function writeGenerationRecord(log: Log, record: GenerationRecord): Promise<void> {
  await ensureGenerationsTopic(log);
  await log.append(GENERATIONS_TOPIC, [
    { key: Buffer.from(`generation/${record.generation}`), value: Buffer.from(JSON.stringify(record)) },
  ]);
}

/** Marks a generation pruned (before its topics and groups are deleted). */
export async function writePrunedRecord(log: Log, record: PrunedRecord): Promise<void> {
  await ensureGenerationsTopic(log);
  await log.append(GENERATIONS_TOPIC, [
    { key: Buffer.from(`pruned/${record.generation}`), value: Buffer.from(JSON.stringify(record)) },
  ]);
}

/**
 * Switches readers to generation `n` (1: the original topics). Readers that resolve the mapping
 * afterwards see it; the topics of every other generation stay as they are (rolling back is
 * switching back). `switchedAt` is wall-clock time, for people reading the control topic.
 */
export async function switchGeneration(log: Log, n: number, switchedAt: string): Promise<ActiveRecord> {
  const state = await readGenerations(log);
  if (state.pruned.has(n))
    throw new HetuError(
      'HETU_REPLAY_PRUNED',
      `Generation ${n} was pruned (its topics and groups are deleted), so readers cannot use it: switch to a generation 'hetu replay --list' shows as verified, or replay again.`,
    );
  let mapping: GenerationMapping = EMPTY_MAPPING;
  if (n !== 1) {
    const g = state.generations.get(n);
    if (!g)
      throw new HetuError(
        'HETU_REPLAY_UNKNOWN_GENERATION',
        `There is no generation ${n}: 'hetu replay --list' shows the generations there are.`,
      );
    if (g.status !== 'verified')
      throw new HetuError(
        'HETU_REPLAY_NOT_VERIFIED',
        `Generation ${n} is ${g.status}, not verified: finish it with 'hetu replay --resume ${n}' before switching to it.`,
      );
    if (g.bounded)
      throw new HetuError(
        'HETU_REPLAY_BOUNDED',
        `Generation ${n} was replayed with --to, so it lacks the input after its window: read its topics directly, or replay without --to to get a generation readers can switch to.`,
      );
    mapping = g.mapping;
  }
  const active: ActiveRecord = {
    generation: n,
    mapping,
    switchedAt,
    previous: state.active.generation,
  };
  await ensureGenerationsTopic(log);
  await log.append(GENERATIONS_TOPIC, [
    { key: Buffer.from('active'), value: Buffer.from(JSON.stringify(active)) },
  ]);
  return active;
}

/** A mapping as a pair of lookups, checked to be one-to-one. */
function lookups(mapping: GenerationMapping | (() => GenerationMapping)) {
  const get = typeof mapping === 'function' ? mapping : () => mapping;
  const topic = (logical: string) => get().topics[logical] ?? logical;
  const group = (logical: string) => get().groups[logical] ?? logical;
  let cached: GenerationMapping | undefined;
  let reverse = new Map<string, string>();
  const logicalOf = (physical: string) => {
    const current = get();
    if (current !== cached) {
      cached = current;
      reverse = new Map(Object.entries(current.topics).map(([l, p]) => [p, l]));
      if (reverse.size !== Object.keys(current.topics).length)
        throw new HetuError(
          'HETU_REPLAY_BAD_MAPPING',
          'Two logical topics map to one physical topic in the generations mapping: fix hetu.meta.generations.',
        );
    }
    return reverse.get(physical) ?? physical;
  };
  return { get, topic, group, logicalOf };
}

/**
 * The log as readers of a generation see it: logical topic and group names are mapped to their
 * physical names on the way in and back on the way out (records, batches, listings), like
 * `prefixedLog` does for a namespace. `mapping` may be a function, read at each call, for a
 * replay whose outputs become known as it runs. A listing hides the physical topics a mapped
 * name stands in for, so every logical name appears once.
 */
export function mappedLog(log: Log, mapping: GenerationMapping | (() => GenerationMapping)): Log {
  const m = lookups(mapping);
  const back = (r: LogRecord): LogRecord => {
    const t = m.logicalOf(r.topic);
    return t === r.topic ? r : { ...r, topic: t };
  };
  const batch = (b: Batch): Batch => ({ ...b, records: b.records.map(back) });
  return {
    kind: log.kind,
    ensureTopics: (specs: readonly TopicSpec[]) =>
      log.ensureTopics(specs.map((s) => ({ ...s, name: m.topic(s.name) }))),
    describeTopics: async (names?: readonly string[]): Promise<TopicInfo[]> => {
      const infos = await log.describeTopics(names?.map(m.topic));
      if (names !== undefined) return infos.map((i) => ({ ...i, name: m.logicalOf(i.name) }));
      const shadowed = new Set(
        Object.entries(m.get().topics)
          .filter(([l, p]) => l !== p)
          .map(([l]) => l),
      );
      return infos.filter((i) => !shadowed.has(i.name)).map((i) => ({ ...i, name: m.logicalOf(i.name) }));
    },
    append: async (topic, records) =>
      (await log.append(m.topic(topic), records)).map((p) => ({ ...p, topic: m.logicalOf(p.topic) })),
    read: async (topic: string, partition: number, options?: ReadOptions) =>
      (await log.read(m.topic(topic), partition, options)).map(back),
    committed: (group, topic) => log.committed(m.group(group), m.topic(topic)),
    subscribe: (options: SubscribeOptions): Promise<Subscription> =>
      log.subscribe({
        ...options,
        group: m.group(options.group),
        topics: options.topics.map(m.topic),
        ...(options.ungatedTopics ? { ungatedTopics: options.ungatedTopics.map(m.topic) } : {}),
        handler: (b, tx) =>
          options.handler(batch(b), {
            append: (topic, records) => tx.append(m.topic(topic), records),
            onCommitted: (cb) => tx.onCommitted(cb),
          }),
        ...(options.onError
          ? { onError: (err, b, attempt) => options.onError!(err, batch(b), attempt) }
          : {}),
      }),
    deleteTopics: (names: readonly string[]) => log.deleteTopics(names.map(m.topic)),
    deleteGroups: (groups: readonly string[]) => log.deleteGroups(groups.map(m.group)),
    close: () => log.close(),
  };
}

/** A generation as its readers see it: its number, its mapping, and the log mapped through it. */
export interface ResolvedGeneration {
  readonly generation: number;
  readonly mapping: GenerationMapping;
  readonly log: Log;
}

/** The log as readers of generation `generation` (with its `mapping`) see it. */
export function generationLog(log: Log, generation: number, mapping: GenerationMapping): ResolvedGeneration {
  return { generation, mapping, log: generation === 1 ? log : mappedLog(log, mapping) };
}

/** The log as the active generation's readers see it, and which generation that is. */
export async function activeLog(log: Log): Promise<ResolvedGeneration> {
  const { generation, mapping } = await activeMapping(log);
  return generationLog(log, generation, mapping);
}

/** True when two mappings resolve every name alike. */
export function sameMapping(a: GenerationMapping, b: GenerationMapping): boolean {
  const same = (x: Readonly<Record<string, string>>, y: Readonly<Record<string, string>>) => {
    const keys = Object.keys(x);
    return keys.length === Object.keys(y).length && keys.every((k) => x[k] === y[k]);
  };
  return same(a.topics, b.topics) && same(a.groups, b.groups);
}

/**
 * Where the read models (projections) of generation `generation` live in a data directory:
 * `projections` for generation 1, `projections.g<N>` for the others (docs/replay.md).
 */
export function projectionsDir(dataDir: string, generation: number): string {
  return join(dataDir, generation === 1 ? 'projections' : `projections.g${generation}`);
}
