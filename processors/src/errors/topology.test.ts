import { describe, expect, it } from 'vitest';
import {
  createMemorySchemaStore,
  createRegistryClient,
  createSerde,
  startEmbeddedRegistry,
  type Command,
  type LogLineObserved,
} from '@hetu/schemas';
import {
  EmbeddedLog,
  HetuError,
  ProcessorRuntime,
  ProcessorTestDriver,
  type AppendRecord,
  type LogRecord,
} from '@hetu/streams';
import type { ErrorGroupRecord } from './error-group-record.ts';
import { errorGroupId } from './groups/index.ts';
import { Fingerprinter, fingerprint, parseOccurrence } from './parse/index.ts';
import {
  CLUSTER_KEY_PREFIX,
  COMMANDS_TOPIC,
  ERROR_GROUPS_TOPIC,
  ERRORS_CHANGELOG_TOPIC,
  RAW_LOGS_TOPIC,
  errorsProcessor,
  type ErrorsProcessorConfig,
  type ErrorsTaskState,
} from './topology.ts';

/** 2026-01-05T10:00:00.000Z, a whole minute. */
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const SEC = 1_000;
const MIN = 60_000;

type LogIn = Partial<LogLineObserved> & { ts: number; line: string };

function logValue(o: LogIn): LogLineObserved {
  return {
    cluster: 'prod',
    namespace: 'shop',
    pod: 'api-7d9f8c6b5-x2k4q',
    container: 'app',
    truncated: false,
    gap: false,
    workload: 'api',
    workloadKind: 'Deployment',
    ...o,
  };
}

function commandValue(
  o: Partial<Command> & { id: string; ts: number; type: string; targetIds: string[] },
): Command {
  return { issuer: 'cli:test', payload: '{}', ...o };
}

const json = <T>(r: LogRecord): T => {
  if (r.value === null) throw new HetuError('HETU_INPUT_INVALID_LOG', 'no value');
  return JSON.parse(r.value.toString('utf8')) as T;
};

const processor = (config?: ErrorsProcessorConfig) =>
  errorsProcessor({
    decodeLog: (r) => json<LogLineObserved>(r),
    decodeCommand: (r) => json<Command>(r),
    ...(config !== undefined ? { config } : {}),
  });

/** One input, as the log would hold it: topic, partition 0, offsets counted per topic. */
interface Input {
  readonly topic: string;
  readonly value: LogLineObserved | Command;
  readonly timestamp: number;
}

const log = (o: LogIn): Input => ({ topic: RAW_LOGS_TOPIC, value: logValue(o), timestamp: o.ts });
const cmd = (o: Parameters<typeof commandValue>[0]): Input => ({
  topic: COMMANDS_TOPIC,
  value: commandValue(o),
  timestamp: o.ts,
});

function records(inputs: readonly Input[]): LogRecord[] {
  const next = new Map<string, bigint>();
  return inputs.map((i) => {
    const offset = next.get(i.topic) ?? 0n;
    next.set(i.topic, offset + 1n);
    return {
      topic: i.topic,
      partition: 0,
      offset,
      key: Buffer.from('prod/shop/api'),
      value: Buffer.from(JSON.stringify(i.value)),
      timestamp: i.timestamp,
      headers: {},
    };
  });
}

async function pipeAll(d: ProcessorTestDriver<unknown, unknown>, recs: readonly LogRecord[]): Promise<void> {
  for (const r of recs) {
    await d.pipeAt(r.topic, { key: r.key, value: r.value, timestamp: r.timestamp }, r.offset);
  }
}

const groupFacts = (d: ProcessorTestDriver<unknown, unknown>) => [...d.output(ERROR_GROUPS_TOPIC)];
/** The error-group facts by group id (fact keys are `<cluster>/<group id>`). */
const table = (d: ProcessorTestDriver<unknown, unknown>) => {
  const out = new Map<string, ErrorGroupRecord>();
  for (const [k, v] of d.facts(ERROR_GROUPS_TOPIC) as Map<string, ErrorGroupRecord>) {
    expect(k.startsWith('prod/')).toBe(true);
    out.set(k.slice('prod/'.length), v);
  }
  return out;
};

const JAVA = [
  'java.lang.IllegalStateException: order 42 not found',
  '\tat com.example.shop.OrderService.place(OrderService.java:42)',
  '\tat com.example.shop.Api.handle(Api.java:17)',
  '\tat java.base/java.lang.Thread.run(Thread.java:833)',
];
const JAVA_FP = fingerprint(parseOccurrence(JAVA)).fingerprint;

function stateJSON(s: ErrorsTaskState): unknown {
  return {
    stitcher: s.stitcher.stitcher.toJSON(),
    fingerprinter: s.fingerprinter.fingerprinter.toJSON(),
    groups: s.groups.exportRecords(),
    logWatermark: s.logWatermark,
  };
}

/** A scenario over two containers and two workloads, with commands, traces and late lines. */
function scenario(): Input[] {
  const out: Input[] = [];
  const worker = { pod: 'worker-0', workload: 'worker', workloadKind: 'StatefulSet' };
  for (let m = 0; m < 30; m++) {
    const t = T0 + m * MIN;
    out.push(log({ ts: t, line: `ERROR payment gateway timed out after ${30 + m}s for order ${1000 + m}` }));
    // More than 1 s after the timeout line, so the trace does not continue it.
    for (let i = 0; i < JAVA.length; i++) out.push(log({ ts: t + 2 * SEC + i, line: JAVA[i] as string }));
    out.push(log({ ts: t + 200, ...worker, line: `WARN retrying job ${m} user alice${m % 3}` }));
    out.push(
      log({ ts: t + 300, ...worker, line: `level=error msg="cannot reach db-${m % 4}" attempt=${m}` }),
    );
    out.push(log({ ts: t + 5 * SEC, line: `INFO served ${m} requests` }));
    if (m % 7 === 3) out.push(log({ ts: t - 2 * MIN, line: `ERROR late line ${m} status=503` }));
  }
  const api = errorGroupId('prod', 'shop', 'api', JAVA_FP);
  out.splice(40, 0, cmd({ id: 'c1', ts: T0 + 5 * MIN, type: 'error-group.resolve', targetIds: [api] }));
  out.splice(90, 0, cmd({ id: 'c2', ts: T0 + 9 * MIN, type: 'error-group.ignore', targetIds: ['nope'] }));
  out.splice(120, 0, cmd({ id: 'c3', ts: T0 + 12 * MIN, type: 'incident.set-status', targetIds: ['i1'] }));
  return out;
}

describe('errors processor', () => {
  it('stitches a Java trace written as four records into one group counted once', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(
      d,
      records([
        ...JAVA.map((line, i) => log({ ts: T0 + i, line })),
        log({ ts: T0 + 10, line: 'INFO request done' }),
        log({ ts: T0 + 3 * SEC, line: 'INFO tick' }),
      ]),
    );
    const id = errorGroupId('prod', 'shop', 'api', JAVA_FP);
    expect([...table(d).keys()]).toEqual([id]);
    // One upsert when the trace completed (the INFO line at T0 + 10 ended it), none since.
    expect(groupFacts(d).length).toBe(1);
    const g = table(d).get(id) as ErrorGroupRecord;
    expect(g).toMatchObject({
      id,
      fingerprint: JAVA_FP,
      faultKey: JAVA_FP,
      cluster: 'prod',
      namespace: 'shop',
      workload: 'api',
      title: 'java.lang.IllegalStateException: order 42 not found',
      exceptionType: 'java.lang.IllegalStateException',
      reason: 'exception.java',
      level: 'error',
      severityRank: 4,
      firstSeen: T0,
      lastSeen: T0,
      count: 1n,
      ownCount: 1n,
      status: 'open',
      regressed: false,
      lastPod: 'api-7d9f8c6b5-x2k4q',
      lastContainer: 'app',
      // The occurrence is exactly on the minute T0, and the counters are evaluated at E = T0 + 1 min
      // (the watermark rounded up): count1m covers (T0, T0 + 1 min], so it is out.
      count1m: 0n,
      count5m: 1n,
      count1h: 1n,
      count24h: 1n,
      spike: false,
      mergedInto: null,
    });
    expect(g.bestSample?.stack).toBe(JAVA.slice(1).join('\n'));
    expect(g.occurrences).toEqual([
      {
        groupId: id,
        ts: T0,
        pod: 'api-7d9f8c6b5-x2k4q',
        container: 'app',
        level: 'error',
        message: 'java.lang.IllegalStateException: order 42 not found',
        hasStack: true,
        url: null,
        requestId: null,
        traceId: null,
      },
    ]);
    expect(g.sparkline).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('flushes a pending trace when the watermark passes it, with no later line of its container', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(
      d,
      records([
        ...JAVA.map((line, i) => log({ ts: T0 + i, line })),
        log({ ts: T0 + 1_003, pod: 'other-1', workload: 'other', line: 'INFO x' }),
      ]),
    );
    expect(table(d).size).toBe(0);
    await d.pipeAt(
      RAW_LOGS_TOPIC,
      { value: JSON.stringify(logValue({ ts: T0 + 1_004, pod: 'o', line: 'y' })), timestamp: T0 + 1_004 },
      5n,
    );
    expect([...table(d).values()].map((g) => [g.workload, g.count])).toEqual([['api', 1n]]);
  });

  it('gives one fault in two workloads two groups with one faultKey', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(
      d,
      records([
        log({ ts: T0, line: 'ERROR payment gateway timed out after 30s' }),
        log({
          ts: T0 + 10,
          pod: 'worker-0',
          workload: 'worker',
          line: 'ERROR payment gateway timed out after 45s',
        }),
        log({ ts: T0 + 2 * SEC, line: 'INFO tick' }),
      ]),
    );
    const groups = [...table(d).values()].sort((a, b) => a.workload.localeCompare(b.workload));
    expect(groups.map((g) => [g.workload, g.lastPod, g.count, g.reason, g.level])).toEqual([
      ['api', 'api-7d9f8c6b5-x2k4q', 1n, 'timeout', 'error'],
      ['worker', 'worker-0', 1n, 'timeout', 'error'],
    ]);
    const [a, w] = groups as [ErrorGroupRecord, ErrorGroupRecord];
    expect(a.faultKey).toBe(w.faultKey);
    expect(a.id).toBe(errorGroupId('prod', 'shop', 'api', a.faultKey));
    expect(w.id).toBe(errorGroupId('prod', 'shop', 'worker', a.faultKey));
    expect(a.id).not.toBe(w.id);
  });

  it('uses the pod as its own workload when the collector resolved none', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(
      d,
      records([
        log({ ts: T0, pod: 'debug-shell', workload: null, workloadKind: null, line: 'FATAL out of memory' }),
        log({ ts: T0 + 2 * SEC, pod: 'debug-shell', workload: null, line: 'INFO bye' }),
      ]),
    );
    expect([...table(d).values()].map((g) => [g.workload, g.level, g.reason, g.severityRank])).toEqual([
      ['debug-shell', 'fatal', 'oom', 5],
    ]);
  });

  it('reopens a resolved group as regressed when it occurs after the resolve time', async () => {
    const line = 'ERROR payment gateway timed out after 30s';
    const fp = new Fingerprinter().fingerprint(parseOccurrence([line])).fingerprint;
    const id = errorGroupId('prod', 'shop', 'api', fp);
    const recs = records([
      log({ ts: T0, line }),
      log({ ts: T0 + 2 * SEC, line: 'INFO tick' }),
      cmd({ id: 'c1', ts: T0 + 3 * SEC, type: 'error-group.resolve', targetIds: [id] }),
      log({ ts: T0 + 10 * SEC, line: 'ERROR payment gateway timed out after 31s' }),
      log({ ts: T0 + 12 * SEC, line: 'INFO tick' }),
    ]);
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, recs.slice(0, 3));
    expect(table(d).get(id)).toMatchObject({
      status: 'resolved',
      resolvedAt: T0 + 3 * SEC,
      regressed: false,
    });
    await pipeAll(d, recs.slice(3));
    expect(table(d).get(id)).toMatchObject({
      status: 'open',
      regressed: true,
      regressedAt: T0 + 10 * SEC,
      resolvedAt: null,
      statusChangedAt: T0 + 10 * SEC,
      count: 2n,
      lastSeen: T0 + 10 * SEC,
    });
    expect(groupFacts(d).length).toBe(3);
  });

  it('dead-letters an unknown error-group command and skips commands for other targets', async () => {
    const d = new ProcessorTestDriver(processor());
    await d.pipe(COMMANDS_TOPIC, {
      value: JSON.stringify(
        commandValue({ id: 'x', ts: T0, type: 'error-group.frobnicate', targetIds: ['g'] }),
      ),
      timestamp: T0,
    });
    await d.pipe(COMMANDS_TOPIC, {
      value: JSON.stringify(commandValue({ id: 'y', ts: T0, type: 'incident.set-status', targetIds: ['i'] })),
      timestamp: T0,
    });
    await d.pipe(COMMANDS_TOPIC, {
      value: JSON.stringify(commandValue({ id: 'z', ts: T0, type: 'error-group.merge', targetIds: ['g'] })),
      timestamp: T0,
    });
    expect(d.deadLetters.map((l) => [l.source.offset, l.reasonCode])).toEqual([
      [0n, 'HETU_INPUT_UNKNOWN_COMMAND'],
      [2n, 'HETU_INPUT_INVALID_COMMAND'],
    ]);
    expect(groupFacts(d)).toEqual([]);
  });

  it('after a restart from the changelog at any point, publishes exactly the facts of an uninterrupted run', async () => {
    const recs = records(scenario());
    const whole = new ProcessorTestDriver(processor());
    await pipeAll(whole, recs);
    const expected = groupFacts(whole);
    expect(recs.length).toBe(247);
    expect(expected.length).toBe(225);
    expect(
      [...table(whole).values()].map((g) => [g.workload, g.reason, g.count, g.status, g.regressed]).sort(),
    ).toEqual([
      ['api', 'exception.java', 30n, 'open', true],
      ['api', 'http.5xx', 4n, 'open', false],
      ['api', 'timeout', 30n, 'open', false],
      ['worker', 'error', 30n, 'open', false],
      ['worker', 'warning', 30n, 'open', false],
    ]);
    // One cut inside a Java trace: three of its four lines are pending in the stitcher.
    const midTrace = recs.findIndex((r) => r.value?.toString().includes('Api.handle') === true) + 1;
    expect(midTrace).toBe(4);
    for (const cut of [1, midTrace, 41, 102, 150, 203, 246]) {
      const first = new ProcessorTestDriver(processor());
      await pipeAll(first, recs.slice(0, cut));
      const second = first.restart();
      expect(stateJSON(second.rawState() as ErrorsTaskState)).toEqual(
        stateJSON(first.rawState() as ErrorsTaskState),
      );
      await pipeAll(second, recs.slice(cut));
      expect([...groupFacts(first), ...groupFacts(second)]).toEqual(expected);
      expect(stateJSON(second.rawState() as ErrorsTaskState)).toEqual(
        stateJSON(whole.rawState() as ErrorsTaskState),
      );
    }
  });

  it('restores template clusters exactly after evictions (cluster and leaf caps)', async () => {
    const config: ErrorsProcessorConfig = { miner: { maxClusters: 6, maxLeafClusters: 2 } };
    const inputs: Input[] = [];
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india'];
    for (let i = 0; i < 120; i++) {
      const w = words[(i * 7) % words.length] as string;
      const line = i % 3 === 0 ? `ERROR cache miss for ${w} now` : `ERROR ${w} job failed: ${w} queue down`;
      inputs.push(log({ ts: T0 + i * 2 * SEC, line }));
    }
    const recs = records(inputs);
    const whole = new ProcessorTestDriver(processor(config));
    await pipeAll(whole, recs);
    const expected = groupFacts(whole);
    expect((whole.rawState() as ErrorsTaskState).fingerprinter.size).toBe(6);
    const tombstones = whole.changelog.filter(
      (r) => r.key?.toString().startsWith(CLUSTER_KEY_PREFIX) === true && r.value === null,
    ).length;
    // 119 completed lines, each a template of its own (plain words differ): 119 clusters made, 6 kept.
    // The `cache miss for <word> now` lines share one leaf (cap 2), so some go by the leaf cap.
    expect(tombstones).toBe(113);
    const live = (whole.rawState() as ErrorsTaskState).fingerprinter.fingerprinter.toJSON().miner.clusters;
    // Lines 113 to 118, least recently used first (word = words[(7 i) mod 9]).
    expect(live.map((c) => c.tokens.join(' '))).toEqual([
      'india job failed: india queue down',
      'cache miss for golf now',
      'echo job failed: echo queue down',
      'charlie job failed: charlie queue down',
      'cache miss for alpha now',
      'hotel job failed: hotel queue down',
    ]);
    for (const cut of [7, 33, 60, 91]) {
      const first = new ProcessorTestDriver(processor(config));
      await pipeAll(first, recs.slice(0, cut));
      const second = first.restart();
      expect(stateJSON(second.rawState() as ErrorsTaskState)).toEqual(
        stateJSON(first.rawState() as ErrorsTaskState),
      );
      await pipeAll(second, recs.slice(cut));
      expect([...groupFacts(first), ...groupFacts(second)]).toEqual(expected);
      expect(stateJSON(second.rawState() as ErrorsTaskState)).toEqual(
        stateJSON(whole.rawState() as ErrorsTaskState),
      );
    }
  });

  it('counts every occurrence one record completes (each gets a position of its own)', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(
      d,
      records([
        log({ ts: T0, pod: 'a-0', workload: 'a', line: 'ERROR disk full on /var/lib/a' }),
        log({ ts: T0 + 1, pod: 'b-0', workload: 'b', line: 'ERROR disk full on /var/lib/b' }),
        log({ ts: T0 + 2, pod: 'c-0', workload: 'c', line: 'ERROR disk full on /var/lib/c' }),
        // Completes all three by watermark, in the order they were last updated.
        log({ ts: T0 + 5 * SEC, pod: 'd-0', workload: 'd', line: 'INFO tick' }),
      ]),
    );
    expect([...table(d).values()].map((g) => [g.workload, g.count]).sort()).toEqual([
      ['a', 1n],
      ['b', 1n],
      ['c', 1n],
    ]);
    const positions = (d.rawState() as ErrorsTaskState).groups
      .exportRecords()
      .flatMap((r) => (r.value?.kind === 'group' ? r.value.occurrences.map((o) => o.source.offset) : []))
      .sort();
    // Record offset 3, shifted by 20 bits, plus the index of the occurrence.
    expect(positions).toEqual(['3145728', '3145729', '3145730']);
  });

  it('applies merge and split commands and publishes the roll-up', async () => {
    const line = (w: string) => `ERROR payment gateway timed out after ${w === 'api' ? 30 : 45}s`;
    const fp = new Fingerprinter().fingerprint(parseOccurrence([line('api')])).fingerprint;
    const api = errorGroupId('prod', 'shop', 'api', fp);
    const worker = errorGroupId('prod', 'shop', 'worker', fp);
    const recs = records([
      log({ ts: T0, line: line('api') }),
      log({ ts: T0 + 10, pod: 'worker-0', workload: 'worker', line: line('worker') }),
      log({ ts: T0 + 2 * SEC, line: 'INFO tick' }),
      cmd({
        id: 'm1',
        ts: T0 + 3 * SEC,
        type: 'error-group.merge',
        targetIds: [worker, api],
        payload: `{"target":"${api}"}`,
      }),
      cmd({ id: 's1', ts: T0 + 4 * SEC, type: 'error-group.split', targetIds: [api] }),
    ]);
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, recs.slice(0, 4));
    expect([
      table(d).get(api)?.count,
      table(d).get(api)?.mergedChildren,
      table(d).get(worker)?.mergedInto,
    ]).toEqual([2n, [worker], api]);
    await pipeAll(d, recs.slice(4));
    expect([
      table(d).get(api)?.count,
      table(d).get(api)?.mergedChildren,
      table(d).get(worker)?.mergedInto,
    ]).toEqual([1n, [], null]);
  });

  it('gives identical facts when the same input is replayed, and ignores a re-delivered record', async () => {
    const recs = records(scenario());
    const a = new ProcessorTestDriver(processor());
    const b = new ProcessorTestDriver(processor());
    await pipeAll(a, recs);
    await pipeAll(b, recs);
    expect(groupFacts(b)).toEqual(groupFacts(a));
    const before = groupFacts(a).length;
    await pipeAll(a, recs.slice(100, 110));
    expect(groupFacts(a).length).toBe(before);
  });

  it('writes small changelog records: only the keys a record changed', async () => {
    const d = new ProcessorTestDriver(processor());
    const inputs: Input[] = [];
    for (let i = 0; i < 400; i++) {
      inputs.push(
        log({
          ts: T0 + i * SEC,
          line: `ERROR step${i % 200} failed in phase ${String.fromCharCode(97 + (i % 26))}x`,
        }),
      );
    }
    const recs = records(inputs);
    await pipeAll(d, recs.slice(0, -1));
    const before = d.changelog.length;
    await pipeAll(d, recs.slice(-1));
    // Every line but the last (still pending) completed an occurrence and used one template cluster.
    const clusters = d.changelog.filter((r) => r.key?.toString().startsWith(CLUSTER_KEY_PREFIX)).length;
    expect(clusters).toBe(399);
    expect(Math.max(...d.changelog.map((r) => r.value?.length ?? 0))).toBeLessThan(8_000);
    const fp = new Fingerprinter().fingerprint(
      parseOccurrence(['ERROR step198 failed in phase ix']),
    ).fingerprint;
    const group = errorGroupId('prod', 'shop', 'api', fp);
    expect(d.changelog.slice(before).map((r) => r.key?.toString())).toEqual([
      'stitch:prod/shop/api-7d9f8c6b5-x2k4q/app',
      'errors:meta',
      `cluster:${fp}`,
      `groups:group:${group}`,
      'groups:meta',
      '\u0000positions',
    ]);
  });

  it('takes a hostile line (1 MiB, NUL bytes, ANSI escapes) without throwing', async () => {
    const d = new ProcessorTestDriver(processor());
    const huge = 'ERROR \u001b[31mboom\u001b[0m ' + 'a\u0000b'.repeat(350_000);
    expect(huge.length).toBeGreaterThan(1_000_000);
    await pipeAll(
      d,
      records([
        log({ ts: T0, line: huge }),
        log({ ts: T0 + 1, line: '\u0000\u0000\u0000' }),
        log({ ts: T0 + 2 * SEC, line: '{"level":"error","msg":' + '['.repeat(10_000) }),
        log({ ts: T0 + 4 * SEC, line: 'INFO tick' }),
      ]),
    );
    // The NUL line is blank and the cut 10 000-deep JSON is text with no level: neither is grouped.
    const groups = [...table(d).values()];
    expect(groups.map((g) => [g.level, g.reason, g.count, g.title.length, g.title.slice(0, 12)])).toEqual([
      ['error', 'error', 1n, 200, 'boom a ba ba'],
    ]);
  });

  it('runs on the embedded log with Avro through the schema registry', async () => {
    const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    try {
      const serde = createSerde(createRegistryClient({ url: registry.url }));
      await log.ensureTopics([
        { name: RAW_LOGS_TOPIC, partitions: 3, cleanupPolicy: 'delete' },
        { name: COMMANDS_TOPIC, partitions: 3, cleanupPolicy: 'delete' },
        { name: ERROR_GROUPS_TOPIC, partitions: 3, cleanupPolicy: 'compact' },
      ]);
      const lines: LogLineObserved[] = [
        ...JAVA.map((line, i) => logValue({ ts: T0 + i, line })),
        logValue({
          ts: T0 + 100,
          pod: 'worker-0',
          workload: 'worker',
          line: 'ERROR payment gateway timed out after 30s',
        }),
        logValue({ ts: T0 + 5 * SEC, line: 'INFO tick' }),
        logValue({ ts: T0 + 5 * SEC, pod: 'worker-0', workload: 'worker', line: 'INFO tick' }),
      ];
      const appended: AppendRecord[] = [];
      for (const l of lines) {
        appended.push({
          key: Buffer.from(`${l.cluster}/${l.namespace}/${l.workload ?? l.pod}`),
          value: await serde.encode(RAW_LOGS_TOPIC, 'LogLineObserved', l),
          timestamp: l.ts,
        });
      }
      await log.append(RAW_LOGS_TOPIC, appended);
      let committed = 0;
      let done: () => void = () => undefined;
      const all = new Promise<void>((resolve) => (done = resolve));
      const runtime = new ProcessorRuntime({
        log,
        processor: errorsProcessor({
          decodeLog: (r) => serde.decode(r.value ?? Buffer.alloc(0), 'LogLineObserved'),
          decodeCommand: (r) => serde.decode(r.value ?? Buffer.alloc(0), 'Command'),
        }),
        encodeFact: (topic, value) => serde.encode(topic, 'ErrorGroup', value as ErrorGroupRecord),
        events: {
          batchCommitted: ({ records: n }) => {
            committed += n;
            if (committed === lines.length) done();
          },
        },
      });
      await runtime.start();
      await all;
      await runtime.close();
      const facts = new Map<string, ErrorGroupRecord | null>();
      for (let p = 0; p < 3; p++) {
        for (const r of await log.read(ERROR_GROUPS_TOPIC, p, { fromOffset: 0n, maxRecords: 1_000 })) {
          const key = r.key?.toString() ?? '';
          facts.set(key, r.value === null ? null : await serde.decode(r.value, 'ErrorGroup'));
        }
      }
      const javaId = errorGroupId('prod', 'shop', 'api', JAVA_FP);
      const got = [...facts.values()]
        .map((g) => (g === null ? null : [g.id, g.workload, g.reason, g.count, g.firstSeen, g.exceptionType]))
        .sort();
      const timeout = [...facts.values()].find((g) => g?.workload === 'worker') as ErrorGroupRecord;
      expect(got).toEqual(
        [
          [javaId, 'api', 'exception.java', 1n, T0, 'java.lang.IllegalStateException'],
          [
            errorGroupId('prod', 'shop', 'worker', timeout.fingerprint),
            'worker',
            'timeout',
            1n,
            T0 + 100,
            null,
          ],
        ].sort(),
      );
      expect(timeout.occurrences.map((o) => [o.pod, o.message])).toEqual([
        ['worker-0', 'payment gateway timed out after 30s'],
      ]);
      expect((await log.describeTopics([ERRORS_CHANGELOG_TOPIC]))[0]?.partitions.length).toBe(3);
    } finally {
      await log.close();
      await registry.close();
    }
  });
});
