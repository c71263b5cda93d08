import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GlobalConfig } from '../config.ts';
import { openBackend } from '../backend.ts';
import { startPipeline } from '../pipeline.ts';
import { ingest } from './analyze.ts';

/** The demo recording that ships with hetu (scripts/gen-demo.ts writes it). */
export const DEMO_RECORDING = fileURLToPath(new URL('../../../demo/demo.jsonl.gz', import.meta.url));

/**
 * `hetu start`: opens the log (embedded in --data-dir unless --kafka is given), creates the
 * catalogue's topics, serves the schema registry (embedded mode) and runs every stage of the
 * pipeline until interrupted. The collectors are not built yet, so on an empty log it plays the
 * demo recording (unless `demo` is false) and says so; observations also come in with `hetu load`.
 */
export async function runStart(
  cfg: GlobalConfig,
  io: { out: NodeJS.WritableStream; signal?: AbortSignal; demo?: boolean },
): Promise<void> {
  const backend = await openBackend(cfg);
  try {
    const pipeline = await startPipeline(backend);
    const [kube] = await backend.log.describeTopics(['hetu.raw.kube']);
    const empty = (kube?.partitions ?? []).every((p) => p.high === 0n);
    const playDemo = io.demo !== false && empty && existsSync(DEMO_RECORDING);
    if (playDemo) io.out.write(`no cluster collectors yet: playing the demo recording ${DEMO_RECORDING}\n`);
    const topics = await backend.log.describeTopics();
    io.out.write(
      [
        `hetu is up: ${backend.description}`,
        `schema registry (Confluent API): ${backend.registryUrl}`,
        `${topics.length} topics ('hetu topics'); stages running: kube, errors, anomalies, incidents, recommendations, scoring`,
        `facts: 'hetu tail hetu.facts.scores', 'hetu tail hetu.facts.incidents', 'hetu tail hetu.facts.error-groups'. Ctrl-C stops.`,
        '',
      ].join('\n'),
    );
    if (playDemo) {
      const s = await ingest(backend, DEMO_RECORDING);
      io.out.write(`demo recording loaded: ${s.observations} observations; the stages are folding it\n`);
    }
    const failed = Promise.race(
      pipeline.subscriptions.map((s) => s.done.then(() => new Promise<never>(() => undefined))),
    );
    try {
      await Promise.race([
        failed,
        new Promise<void>((resolve) => {
          if (io.signal) io.signal.addEventListener('abort', () => resolve(), { once: true });
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        }),
      ]);
    } finally {
      await pipeline.close();
    }
  } finally {
    await backend.close();
  }
}
