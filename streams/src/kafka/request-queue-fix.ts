/**
 * A fix for kafkajs 2.2.4's request queue, applied once when the Kafka adapter loads.
 *
 * `RequestQueue.scheduleCheckPendingRequests` computes `throttledUntil - Date.now()` with
 * `throttledUntil` at -1 when the broker never throttled, so with nothing pending it sets a timer
 * of a negative delay (Node clamps it to 1 ms and, since Node 23, prints a TimeoutNegativeWarning
 * per process), whose check schedules the next one: every connection polls its empty queue every
 * millisecond for as long as it is open (kafkajs issues #1704 and #1751, open upstream). Measured
 * here (2026-11-28, an idle admin, idempotent producer and consumer on the test broker, 10 s):
 * 291 ms of CPU without the fix, 48 ms with it.
 *
 * The fix: with nothing pending and no throttle in force, schedule nothing. A request queued later
 * (throttled, or too many in flight) calls it again with something pending, and a fulfilled request
 * checks the queue itself, so no request waits for a check that never comes.
 */
import { createRequire } from 'node:module';

interface RequestQueueLike {
  throttleCheckTimeoutId: unknown;
  throttledUntil: number;
  pending: unknown[];
}

type Schedule = (this: RequestQueueLike) => void;

const FIXED = Symbol.for('hetu.kafkajs.requestQueueFix');

/** The request queue class of the kafkajs that `kafka-log.ts` imports (the same module instance). */
function requestQueueClass(): { prototype: Record<string | symbol, unknown> } | undefined {
  try {
    const require = createRequire(import.meta.url);
    return require('kafkajs/src/network/requestQueue/index.js') as {
      prototype: Record<string | symbol, unknown>;
    };
  } catch {
    return undefined;
  }
}

/**
 * Applies the fix (once per process); false when this kafkajs has no such method to fix (another
 * version: then it runs as it is).
 */
export function fixRequestQueue(): boolean {
  const proto = requestQueueClass()?.prototype;
  const original = proto?.['scheduleCheckPendingRequests'];
  if (proto === undefined || typeof original !== 'function') return false;
  if (proto[FIXED] === true) return true;
  const schedule = original as Schedule;
  proto['scheduleCheckPendingRequests'] = function (this: RequestQueueLike) {
    if (!this.throttleCheckTimeoutId && this.pending.length === 0 && !(this.throttledUntil - Date.now() > 0))
      return;
    schedule.call(this);
  } satisfies Schedule;
  proto[FIXED] = true;
  return true;
}

/** Whether the fix is in place (for the test). */
export function requestQueueFixed(): boolean {
  return requestQueueClass()?.prototype[FIXED] === true;
}
