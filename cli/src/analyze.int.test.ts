import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { prefixedLog } from '@hetu/streams';
import { parseGlobalConfig } from './config.ts';
import { openBackend, type Backend } from './backend.ts';
import { analyzeOn } from './commands/analyze.ts';
import { factDigest, factLines } from './digest.ts';
import { toJson } from './output.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-analyze-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The demo through every stage on a backend: its facts' digest and the analyze JSON. */
async function run(backend: Backend) {
  const { result } = await analyzeOn(backend, 'demo/demo.jsonl.gz');
  return { digest: await factDigest(backend), json: toJson(result), lines: await factLines(backend) };
}

describe('the same recording through the embedded log and through Kafka', () => {
  it('gives identical facts (digest of every fact topic) and byte-identical analyze JSON', async () => {
    const embedded = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'embedded') }, {}));
    const onEmbedded = await run(embedded).finally(() => embedded.close());

    const kafka = await openBackend(
      parseGlobalConfig(
        { kafka: inject('kafkaBrokers').join(','), registry: inject('schemaRegistryUrl') },
        {},
      ),
    );
    // A fresh namespace on the shared test broker: topics and groups of its own.
    const ns: Backend = { ...kafka, log: prefixedLog(kafka.log, `digest-${randomUUID().slice(0, 8)}.`) };
    const onKafka = await run(ns).finally(() => kafka.close());

    // On a difference, show where the first lines of each topic part (for diagnosis).
    for (const [topic, lines] of Object.entries(onEmbedded.lines)) {
      const other = onKafka.lines[topic] ?? [];
      const diff = lines.filter((l, i) => other[i] !== l).slice(0, 2);
      for (const d of diff) {
        const i = lines.indexOf(d);
        const o = other[i] ?? '';
        let at = 0;
        while (at < d.length && d[at] === o[at]) at++;
        console.log(
          `DIFF ${topic} @${at}\nE ${d.slice(Math.max(0, at - 400), at + 150)}\nK ${o.slice(Math.max(0, at - 400), at + 150)}`,
        );
      }
    }
    expect(onKafka.digest).toEqual(onEmbedded.digest);
    expect(Object.keys(onEmbedded.digest).sort()).toEqual(
      expect.arrayContaining([
        'hetu.facts.anomalies',
        'hetu.facts.error-groups',
        'hetu.facts.incidents',
        'hetu.facts.node-health',
        'hetu.facts.pod-health',
        'hetu.facts.rca',
        'hetu.facts.recommendations',
        'hetu.facts.score-history',
        'hetu.facts.scores',
      ]),
    );
    // Every fact topic of the analysis holds something (the LLM's stay empty: not configured).
    expect(
      Object.entries(onEmbedded.digest)
        .filter(([t]) => !t.startsWith('hetu.facts.llm'))
        .every(([, d]) => d.entries > 0),
    ).toBe(true);
    expect(onKafka.json).toBe(onEmbedded.json);
  }, 900_000);
});
