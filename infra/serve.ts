/**
 * Starts the test services by hand and keeps them up until Ctrl-C (or SIGTERM):
 *
 *   node infra/serve.ts            # after `npm run infra:fetch`
 *
 * It prints the two variables that make the integration tests (and `hetu --kafka/--registry`)
 * use these services instead of starting their own.
 */
import { fileURLToPath } from 'node:url';
import { killStaleProcesses, locateInfra, startKafka, startRegistry } from './src/index.ts';
import type { KafkaHandle, RegistryHandle } from './src/index.ts';
import { probeKafka } from '../streams/src/kafka/probe.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const layout = locateInfra(root);
for (const k of killStaleProcesses(layout.pidDir)) console.log(`killed stale ${k.name} (pid ${k.pid})`);

const started = performance.now();
const [kafka, registry] = await Promise.allSettled([
  startKafka({ libsDir: layout.kafkaLibs, pidDir: layout.pidDir, probe: probeKafka }),
  startRegistry({ home: layout.apicurioHome, java: layout.apicurioJava, pidDir: layout.pidDir }),
]);
const handles: Array<KafkaHandle | RegistryHandle> = [];
for (const r of [kafka, registry]) if (r.status === 'fulfilled') handles.push(r.value);
if (kafka.status === 'rejected' || registry.status === 'rejected') {
  await Promise.all(handles.map((h) => h.stop()));
  for (const r of [kafka, registry]) if (r.status === 'rejected') console.error(String(r.reason));
  process.exit(1);
}

console.log(`Kafka ${layout.kafkaVersion} (log ${kafka.value.logFile})`);
console.log(`Apicurio Registry ${layout.apicurioVersion} (log ${registry.value.logFile})`);
console.log(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops both.\n`);
console.log(`export KAFKA_BROKERS=${kafka.value.brokers.join(',')}`);
console.log(`export SCHEMA_REGISTRY_URL=${registry.value.url}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await Promise.all(handles.map((h) => h.stop()));
  console.log('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
