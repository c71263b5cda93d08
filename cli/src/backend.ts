import { join } from 'node:path';
import {
  createRegistryClient,
  createSerde,
  startEmbeddedRegistry,
  topicSpecs,
  type SchemaRegistryClient,
  type Serde,
} from '@hetu/schemas';
import { EmbeddedLog, HetuError, KafkaLog, logSchemaStore, type Log } from '@hetu/streams';
import type { GlobalConfig } from './config.ts';

/** The log and the schema registry a command works on: Kafka + a registry, or the embedded pair. */
export interface Backend {
  readonly log: Log;
  readonly registry: SchemaRegistryClient;
  readonly serde: Serde;
  readonly registryUrl: string;
  /** One line saying where the data is. */
  readonly description: string;
  close(): Promise<void>;
}

async function checkRegistry(url: string): Promise<void> {
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/subjects`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    if (res.ok) return;
    throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    throw new HetuError(
      'HETU_REGISTRY_UNREACHABLE',
      `Cannot reach the schema registry at ${url} (${(err as Error).message}): check that it runs and that --registry names its Confluent-compatible API (for Apicurio: <url>/apis/ccompat/v7).`,
      { cause: err, transient: true },
    );
  }
}

export async function openBackend(
  cfg: GlobalConfig,
  embedded: {
    writeLock?: SharedArrayBuffer;
    durability?: 'normal' | 'off';
    timeRetention?: boolean;
    /** Appends per partition between cleans (`EmbeddedLogOptions.cleanEvery`; tests). */
    cleanEvery?: number;
  } = {},
): Promise<Backend> {
  if (cfg.kafka) {
    const log = new KafkaLog({ brokers: cfg.kafka, clientId: 'hetu-cli', connectionTimeoutMs: 3000 });
    try {
      await log.describeTopics([]);
      await checkRegistry(cfg.registry!);
    } catch (err) {
      await log.close();
      throw err;
    }
    const registry = createRegistryClient({ url: cfg.registry! });
    return {
      log,
      registry,
      serde: createSerde(registry),
      registryUrl: cfg.registry!,
      description: `Kafka at ${cfg.kafka.join(',')}, schema registry at ${cfg.registry}`,
      close: () => log.close(),
    };
  }
  const dir = join(cfg.dataDir, 'log');
  const log = new EmbeddedLog({
    dataDir: dir,
    ...(embedded.writeLock ? { writeLock: embedded.writeLock } : {}),
    ...(embedded.durability ? { durability: embedded.durability } : {}),
    ...(embedded.timeRetention === false ? { timeRetention: false } : {}),
    ...(embedded.cleanEvery !== undefined ? { cleanEvery: embedded.cleanEvery } : {}),
  });
  const server = await startEmbeddedRegistry({ store: await logSchemaStore(log) });
  const registry = createRegistryClient({ url: server.url });
  return {
    log,
    registry,
    serde: createSerde(registry),
    registryUrl: server.url,
    description: `embedded log in ${dir}`,
    close: async () => {
      await server.close();
      await log.close();
    },
  };
}

/** Creates every catalogue topic that is missing. */
export async function createCatalogueTopics(log: Log): Promise<void> {
  await log.ensureTopics(topicSpecs());
}

/**
 * Runs `fn` with the embedded log's cleaning paused on this connection (`EmbeddedLog.
 * pauseCleaning`): the stages of `hetu analyze` and `hetu replay` run one after another, and a
 * stage must read every fact the stages before it wrote, not only what a compaction in between
 * left. On Kafka, `fn` runs as it is (the broker compacts only closed segments).
 */
export async function withCleaningPaused<T>(backend: Backend, fn: () => Promise<T>): Promise<T> {
  const resume = pauseCleaning(backend);
  try {
    return await fn();
  } finally {
    resume();
  }
}

/** `EmbeddedLog.pauseCleaning` on an embedded backend (a no-op elsewhere): returns the resume. */
export function pauseCleaning(backend: Backend): () => void {
  return backend.log instanceof EmbeddedLog ? backend.log.pauseCleaning() : () => undefined;
}
