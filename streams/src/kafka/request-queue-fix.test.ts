import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { requestQueueFixed } from './request-queue-fix.ts';
import './kafka-log.ts';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  scheduleCheckPendingRequests(): void;
}

const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as new (o: {
  clientId: string;
  broker: string;
  logger: unknown;
}) => Queue;

const queue = (): Queue =>
  new RequestQueue({ clientId: 'test', broker: 'b:9092', logger: { debug() {}, warn() {}, error() {} } });

describe('the kafkajs request queue fix (loaded with the Kafka adapter)', () => {
  it('is in place', () => {
    expect(requestQueueFixed()).toBe(true);
  });

  it('schedules no check of an empty, unthrottled queue (kafkajs polled it every millisecond)', () => {
    const q = queue();
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still schedules one for a pending request, and while throttled', () => {
    const pending = queue();
    pending.pending.push({});
    pending.scheduleCheckPendingRequests();
    expect(pending.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(pending.throttleCheckTimeoutId!);

    const throttled = queue();
    throttled.throttledUntil = Date.now() + 60_000;
    throttled.scheduleCheckPendingRequests();
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(throttled.throttleCheckTimeoutId!);
  });
});
