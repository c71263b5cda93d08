// Small helpers the benchmarks share.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ScaleRecordingStats } from '@hetu/producers/recording';
import { killStaleProcesses, locateInfra, startKafka, startRegistry } from '@hetu/infra';
import { probeKafka } from '../streams/src/kafka/probe.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCALE_MODULE = fileURLToPath(new URL('../producers/src/recording/scale.ts', import.meta.url));

/** Letters for i (the fingerprint masks digits, so a new error needs new words). */
export function word(i: number): string {
  let s = '';
  let n = i + 26;
  while (n > 0) {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
}

/** The q-quantile of ascending `sorted` (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

/** The machine's load averages (1, 5, 15 min), for the figures' context. */
export function loads(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** KAFKA_BROKERS, or a broker started from .cache/infra for the run (`stop` ends it). */
export async function benchBroker(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const given = process.env.KAFKA_BROKERS?.split(',').filter(Boolean);
  if (given?.length) return { brokers: given, stop: async () => undefined };
  const layout = locateInfra(ROOT);
  const k = await startKafka({ libsDir: layout.kafkaLibs, pidDir: layout.pidDir, probe: probeKafka });
  return { brokers: k.brokers, stop: () => k.stop() };
}

/** An integer setting from the environment (`_` allowed as a separator); exits 2 on a bad one. */
export function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name}=${raw} is not an integer ≥ ${min}.`);
    process.exit(2);
  }
  return n;
}

/** Milliseconds as seconds with one decimal. */
export const secs = (ms: number): number => Math.round(ms / 100) / 10;

/** KiB (as /proc reports them) as whole MiB. */
export const mib = (kib: number): number => Math.round(kib / 1024);

export interface BenchServices {
  brokers: string[];
  registryUrl: string;
  stop(): Promise<void>;
}

/** KAFKA_BROKERS and SCHEMA_REGISTRY_URL when set, else Kafka and Apicurio from .cache/infra. */
export async function kafkaServices(print: (line: string) => void): Promise<BenchServices> {
  const brokers = process.env.KAFKA_BROKERS?.split(',').filter(Boolean);
  const registry = process.env.SCHEMA_REGISTRY_URL?.replace(/\/+$/, '');
  if (brokers?.length && registry) {
    print(`Kafka ${brokers.join(',')} and schema registry ${registry} from the environment`);
    return { brokers, registryUrl: registry, stop: async () => undefined };
  }
  const layout = locateInfra(ROOT);
  killStaleProcesses(layout.pidDir);
  const [k, r] = await Promise.all([
    startKafka({ libsDir: layout.kafkaLibs, pidDir: layout.pidDir, heapMb: 512, probe: probeKafka }),
    startRegistry({
      home: layout.apicurioHome,
      java: layout.apicurioJava,
      pidDir: layout.pidDir,
      heapMb: 384,
    }),
  ]);
  print(`Kafka ${k.brokers.join(',')} and Apicurio ${r.url} started from .cache/infra`);
  return {
    brokers: k.brokers,
    registryUrl: r.url,
    stop: async () => {
      await r.stop();
      await k.stop();
    },
  };
}

/**
 * Writes a scale recording (producers/src/recording/scale.ts) in a child process, so its memory is
 * not the bench's; returns its statistics.
 */
export async function generateScale(
  file: string,
  options: { pods: number; observations: number; startMs?: number },
): Promise<ScaleRecordingStats> {
  const code = [
    `import { writeScaleRecording } from ${JSON.stringify(pathToFileURL(SCALE_MODULE).href)};`,
    `const stats = await writeScaleRecording(${JSON.stringify(file)}, ${JSON.stringify(options)});`,
    'process.stdout.write(JSON.stringify(stats));',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (status !== 0) throw new Error(`The recording generator exited with status ${status}.`);
  return JSON.parse(out) as ScaleRecordingStats;
}
