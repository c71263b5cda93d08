import { describe, expect, it } from 'vitest';
import { EmbeddedLog, type Log } from '@hetu/streams';
import {
  FRONTIERS_TOPIC,
  FrontierPublisher,
  FrontierTable,
  LogFrontiers,
  decodeFrontier,
  encodeFrontier,
  ensureFrontiersTopic,
  forgetGeneration,
  frontierKey,
} from './frontiers.ts';
import { RawFrontier, StageGates } from './gates.ts';

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

/** What the frontiers topic holds, key → frontier, in append order (the newest wins). */
async function topic(log: Log): Promise<[string, number | undefined][]> {
  return (await log.read(FRONTIERS_TOPIC, 0)).map((r) => [r.key!.toString('utf8'), decodeFrontier(r.value)]);
}

describe('stage frontiers through the log', () => {
  it('encodes a time or Infinity, and ignores what is not a frontier', () => {
    expect(decodeFrontier(encodeFrontier(1_700_000_000_000))).toBe(1_700_000_000_000);
    expect(decodeFrontier(encodeFrontier(Infinity))).toBe(Infinity);
    expect(decodeFrontier(Buffer.from('{"below":"soon"}'))).toBeUndefined();
    expect(decodeFrontier(Buffer.from('not json'))).toBeUndefined();
    expect(decodeFrontier(null)).toBeUndefined();
  });

  it('publishes only forward, the newest per key, and a follower sees the highest', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    await ensureFrontiersTopic(log);
    const publisher = new FrontierPublisher(log);
    const a = frontierKey(1, 'hetu-incidents', 0);
    const b = frontierKey(1, 'hetu-incidents', 1);
    publisher.report(a, 2_000);
    publisher.report(a, 1_000); // backwards: dropped
    publisher.report(b, 5_000);
    publisher.report(a, 3_000);
    await publisher.close();
    publisher.report(a, 9_000); // after close: nothing
    const written = await topic(log);
    // The first append went out alone; what came while it was on its way went in the next, newest only.
    expect(written).toEqual([
      [a, 2_000],
      [b, 5_000],
      [a, 3_000],
    ]);
    expect(publisher.publishedFrontier(a)).toBe(3_000);

    const table = new FrontierTable();
    let moves = 0;
    table.onMove(() => moves++);
    await table.follow(log);
    await until(() => table.get(a) === 3_000 && table.get(b) === 5_000);
    expect(moves).toBe(3);
    table.apply(a, 2_500); // lower than known: kept at 3 000
    expect(table.get(a)).toBe(3_000);
    await table.close();
    await log.close();
  });

  it('tries a failed append again with the newest frontier, and says so', async () => {
    const inner = new EmbeddedLog({ dataDir: ':memory:' });
    await ensureFrontiersTopic(inner);
    let failures = 1;
    const log: Log = Object.assign(Object.create(inner) as Log, {
      append: (t: string, r: Parameters<Log['append']>[1]) => {
        if (failures-- > 0) return Promise.reject(new Error('broker away'));
        return inner.append(t, r);
      },
    });
    const errors: string[] = [];
    const publisher = new FrontierPublisher(log, (e) => errors.push((e as Error).message));
    const k = frontierKey(2, 'hetu-feed', 0);
    publisher.report(k, 1_000);
    await until(() => errors.length === 1);
    publisher.report(k, 4_000);
    await until(() => publisher.publishedFrontier(k) === 4_000);
    await publisher.close();
    expect(errors).toEqual(['broker away']);
    expect(await topic(inner)).toEqual([[k, 4_000]]);
    await inner.close();
  });

  it("gives a stage the lowest of its tasks' frontiers, in its own generation; a task never reported holds it back", () => {
    const table = new FrontierTable();
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    const publisher = new FrontierPublisher(log);
    const stages = [
      { name: 'kube', group: 'hetu-kube', tasks: 3 },
      { name: 'feed', group: 'hetu-feed', tasks: 1 },
    ];
    const g2 = new LogFrontiers(table, publisher, 2, stages);
    table.apply(frontierKey(2, 'hetu-kube', 0), 5_000);
    table.apply(frontierKey(2, 'hetu-kube', 2), 4_000);
    table.apply(frontierKey(1, 'hetu-kube', 1), 9_000); // another generation
    expect(g2.frontier('kube')).toBe(-Infinity);
    table.apply(frontierKey(2, 'hetu-kube', 1), 7_000);
    expect(g2.frontier('kube')).toBe(4_000);
    expect(g2.frontier('feed')).toBe(-Infinity);
    expect(() => g2.frontier('nope')).toThrow('No stage nope');
    void log.close();
  });

  it("gates stages by the published frontiers of the stages they read, and publishes their tasks' reports", async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    await ensureFrontiersTopic(log);
    const table = new FrontierTable();
    const publisher = new FrontierPublisher(log);
    const raw = new RawFrontier();
    const gates = new StageGates(
      [
        { name: 'kube', inputs: ['hetu.raw.kube'], outputs: ['hetu.facts.pod-health'] },
        { name: 'feed', inputs: ['hetu.facts.pod-health', 'hetu.commands'], outputs: ['feed'] },
      ],
      raw,
      new LogFrontiers(table, publisher, 1, [
        { name: 'kube', group: 'hetu-kube', tasks: 2 },
        { name: 'feed', group: 'hetu-feed', tasks: 1 },
      ]),
    );
    raw.complete(10_000);
    expect(gates.bound('kube')).toBe(10_000);
    expect(gates.bound('feed')).toBe(-Infinity);
    expect(gates.waitingFor('feed')).toEqual(['kube']);
    expect(gates.ungated('feed')).toEqual(['hetu.commands']);

    // kube's gate reports its tasks: they go to the topic, and come back through the table.
    const kubeGate = gates.gate('kube');
    const feedGate = gates.gate('feed');
    let feedMoves = 0;
    const stop = feedGate.onMove(() => feedMoves++);
    await table.follow(log);
    kubeGate.reachedTask!(0, 3_000);
    kubeGate.reachedTask!(1, 2_000);
    await until(() => gates.bound('feed') === 2_000);
    expect(feedMoves).toBeGreaterThan(0);
    expect(gates.waitingFor('feed')).toEqual([]);
    kubeGate.reachedTask!(1, 6_000);
    await until(() => gates.bound('feed') === 3_000);
    stop();
    await publisher.close();
    await table.close();
    await log.close();
  });

  it("forgets a pruned generation's frontiers, and only those", async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    expect(await forgetGeneration(log, 2)).toBe(0); // no topic yet
    await ensureFrontiersTopic(log);
    const publisher = new FrontierPublisher(log);
    for (const [g, task] of [
      [1, 0],
      [2, 0],
      [2, 1],
      [12, 0],
    ] as const)
      publisher.report(frontierKey(g, 'hetu-kube', task), 1_000);
    await until(() => publisher.publishedFrontier(frontierKey(12, 'hetu-kube', 0)) === 1_000);
    await publisher.close();
    expect(await forgetGeneration(log, 2)).toBe(2);
    expect(await forgetGeneration(log, 2)).toBe(0); // already gone
    const table = new FrontierTable();
    await table.follow(log);
    await until(() => table.get(frontierKey(12, 'hetu-kube', 0)) === 1_000);
    expect(table.get(frontierKey(1, 'hetu-kube', 0))).toBe(1_000);
    const last = (await log.read(FRONTIERS_TOPIC, 0)).slice(-2);
    expect(last.map((r) => [r.key!.toString(), r.value])).toEqual([
      ['g2/hetu-kube/0', null],
      ['g2/hetu-kube/1', null],
    ]);
    await table.close();
    await log.close();
  });
});
