/**
 * Fault suite, item 2 (issue I; results in docs/reliability.md): the Kafka broker is killed
 * (SIGKILL) and restarted on the same storage while the analysis stages run on it. The stages
 * retry through the outage, resume from their committed transactions, and end with the facts of
 * a clean run on the embedded log: no loss, no duplicates — every fact topic holds the same keys
 * with the same values. One thing may move: a transaction the kill aborted still took offsets on
 * Kafka (its records and its abort marker), so facts written after it sit at later offsets, and
 * evidence that points at them (incidents, RCA, scores) names those offsets (and its ids hash them).
 * Values are compared with evidence offsets and ids masked; topics without such a shift must match byte for byte.
 * A broker of its own (so the shared one is not disturbed), the registry of the global setup.
 *
 * The broker is down HETU_FAULT_BROKER_DOWN_S seconds (5 in `npm test`, 30 with `npm run test:faults`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { locateInfra, startKafka, type KafkaHandle } from '../../infra/src/index.ts';
import { probeKafka } from '../../streams/src/kafka/probe.ts';
import { parseGlobalConfig } from '../../cli/src/config.ts';
import { openBackend } from '../../cli/src/backend.ts';
import { analyzeOn } from '../../cli/src/commands/analyze.ts';
import { factDigest, factLines } from '../../cli/src/digest.ts';
import { toJson } from '../../cli/src/output.ts';

const DOWN_S = Number(process.env.HETU_FAULT_BROKER_DOWN_S ?? 5);
const DEMO = 'demo/demo.jsonl.gz';
const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'hetu-faults-broker-'));
let kafka: KafkaHandle | undefined;
afterAll(async () => {
  await kafka?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('fault suite: the broker stopped and restarted mid-run', () => {
  it(`the stages ride out a SIGKILLed broker down ${DOWN_S} s and end with the facts of a clean run`, async () => {
    const clean = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'clean') }, {}));
    const want = await analyzeOn(clean, DEMO)
      .then(async ({ result }) => ({
        digest: await factDigest(clean),
        lines: await factLines(clean),
        json: toJson(result),
      }))
      .finally(() => clean.close());

    const layout = locateInfra(ROOT);
    kafka = await startKafka({
      libsDir: layout.kafkaLibs,
      pidDir: layout.pidDir,
      heapMb: 512,
      probe: probeKafka,
    });
    const backend = await openBackend(
      parseGlobalConfig({ kafka: kafka.brokers.join(','), registry: inject('schemaRegistryUrl') }, {}),
    );
    let restarted: Promise<number> | undefined;
    const stages: string[] = [];
    try {
      const run = analyzeOn(backend, DEMO, {
        stage: (name) => {
          stages.push(name);
          // Mid-run: while the third stage works, kill the broker and bring it back.
          if (stages.length === 3 && kafka) {
            const k = kafka;
            restarted = (async () => {
              await new Promise((r) => setTimeout(r, 500));
              const t = performance.now();
              await k.restart({ kill: true, downMs: DOWN_S * 1000 });
              return performance.now() - t;
            })();
          }
        },
      });
      const { result } = await run;
      expect(restarted).toBeDefined();
      const restartMs = await restarted!;
      const got = { digest: await factDigest(backend), json: toJson(result) };
      const entries = Object.values(got.digest).reduce((a, d) => a + d.entries, 0);
      const moved = Object.keys(want.digest).filter((t) => got.digest[t]?.sha256 !== want.digest[t]!.sha256);
      console.log(
        `[faults] broker restart: SIGKILL during stage '${stages[2]}', down ${DOWN_S} s (back after ${Math.round(restartMs)} ms); ${entries} fact keys; ${moved.length === 0 ? 'digest equal to the clean run' : `offsets moved in ${moved.join(', ')}`}`,
      );
      // The same topics with the same number of keys: nothing lost, nothing duplicated.
      expect(Object.fromEntries(Object.entries(got.digest).map(([t, d]) => [t, d.entries]))).toEqual(
        Object.fromEntries(Object.entries(want.digest).map(([t, d]) => [t, d.entries])),
      );
      if (moved.length > 0) {
        // Only evidence offsets may differ, and the evidence ids that hash them (`ev-` + 12 hex).
        const mask = (line: string) =>
          line.replace(/"(offset|sourceOffset)":("?)-?\d+\2/g, '"$1":0').replace(/ev-[0-9a-f]{12}/g, 'ev-*');
        const gotLines = await factLines(backend);
        for (const t of moved)
          expect((gotLines[t] ?? []).map(mask), t).toEqual((want.lines[t] ?? []).map(mask));
        expect(JSON.parse(mask(got.json))).toEqual(JSON.parse(mask(want.json)));
      } else {
        expect(got.json).toBe(want.json);
      }
    } finally {
      await backend.close();
    }
  }, 900_000);
});
