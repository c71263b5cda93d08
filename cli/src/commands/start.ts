import type { GlobalConfig } from '../config.ts';
import { openBackend } from '../backend.ts';
import { startPipeline } from '../pipeline.ts';

/**
 * `hetu start`: opens the log (embedded in --data-dir unless --kafka is given), creates the
 * catalogue's topics, serves the schema registry (embedded mode) and runs the processors that
 * exist so far (errors, anomalies) until interrupted. Collectors, API and dashboard join this
 * process as they land; until then, observations come in with `hetu load`.
 */
export async function runStart(
  cfg: GlobalConfig,
  io: { out: NodeJS.WritableStream; signal?: AbortSignal },
): Promise<void> {
  const backend = await openBackend(cfg);
  try {
    const pipeline = await startPipeline(backend);
    const topics = await backend.log.describeTopics();
    io.out.write(
      [
        `hetu is up: ${backend.description}`,
        `schema registry (Confluent API): ${backend.registryUrl}`,
        `${topics.length} topics ('hetu topics'); processors running: errors (hetu.raw.logs → hetu.facts.error-groups), anomalies (hetu.raw.metrics → hetu.facts.anomalies)`,
        `no collectors yet: feed observations with 'hetu load hetu.raw.logs --in <file>'. Ctrl-C stops.`,
        '',
      ].join('\n'),
    );
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
