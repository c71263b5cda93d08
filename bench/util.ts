// Small helpers the benchmarks share.
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { locateInfra, startKafka } from '@hetu/infra';
import { probeKafka } from '../streams/src/kafka/probe.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

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
