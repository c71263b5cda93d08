/**
 * Client-level readiness check of a Kafka cluster, with kafkajs (which may be imported only here,
 * under streams/src/kafka): connect an admin client, describe the cluster, then create and delete a
 * throwaway topic waiting for its leader. An open port alone does not mean the broker serves requests.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { fixRequestQueue } from './request-queue-fix.ts';

// kafkajs polls every connection's empty request queue every millisecond otherwise (request-queue-fix.ts).
fixRequestQueue();

/**
 * Resolves once `brokers` answer describeCluster and can create (with a leader) and delete a topic;
 * rejects with the last error when that has not happened within `timeoutMs`.
 */
export async function probeKafka(brokers: string[], timeoutMs: number): Promise<void> {
  const started = performance.now();
  const left = () => timeoutMs - (performance.now() - started);
  let lastError: unknown = null;
  let attempts = 0;
  while (left() > 0) {
    attempts++;
    const kafka = new Kafka({
      clientId: 'hetu-probe',
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      requestTimeout: 10_000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    const topic = `__hetu-probe-${randomUUID()}`;
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) throw new Error('describeCluster returned no broker');
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
        timeout: Math.max(1000, Math.min(15_000, left())),
      });
      if (!created) throw new Error(`createTopics(${topic}) returned false`);
      await admin.deleteTopics({ topics: [topic], timeout: Math.max(1000, Math.min(15_000, left())) });
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (left() > 0) await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, left()))));
  }
  const why = lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError);
  throw new Error(
    `Kafka at ${brokers.join(',')} not usable within ${timeoutMs} ms (${attempts} attempts); last error: ${why}`,
  );
}
