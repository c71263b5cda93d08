import type { GlobalConfig } from '../config.ts';
import { createCatalogueTopics, openBackend } from '../backend.ts';

/**
 * `hetu start`: opens the log (embedded in --data-dir unless --kafka is given), creates the
 * catalogue's topics, serves the schema registry (embedded mode) and stays up until interrupted.
 * The pipeline's roles (collectors, processors, API, dashboard) join this process as they land.
 */
export async function runStart(
  cfg: GlobalConfig,
  io: { out: NodeJS.WritableStream; signal?: AbortSignal },
): Promise<void> {
  const backend = await openBackend(cfg);
  try {
    await createCatalogueTopics(backend.log);
    const topics = await backend.log.describeTopics();
    io.out.write(
      [
        `hetu is up: ${backend.description}`,
        `schema registry (Confluent API): ${backend.registryUrl}`,
        `${topics.length} topics ready ('hetu topics' lists them). Press Ctrl-C to stop.`,
        '',
      ].join('\n'),
    );
    await new Promise<void>((resolve) => {
      if (io.signal) io.signal.addEventListener('abort', () => resolve(), { once: true });
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  } finally {
    await backend.close();
  }
}
