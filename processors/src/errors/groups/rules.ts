/** Small pure rules of the group state: ids, severity, sample score, text bounds. */
import { createHash } from 'node:crypto';
import { ERROR_LEVELS } from './types.ts';
import type { ErrorLevel, ErrorOccurrence, SeverityRank } from './types.ts';

const RANKS: Readonly<Record<ErrorLevel, SeverityRank>> = Object.freeze({
  fatal: 5,
  panic: 5,
  error: 4,
  warn: 3,
  info: 2,
  debug: 1,
  trace: 1,
});

/** Severity rank (SPEC §4): fatal/panic 5, error 4, warn 3, info 2, debug/trace 1. */
export function severityRank(level: ErrorLevel): SeverityRank {
  return RANKS[level];
}

export function isErrorLevel(value: unknown): value is ErrorLevel {
  return typeof value === 'string' && (ERROR_LEVELS as readonly string[]).includes(value);
}

/**
 * The group id: the first 16 hex digits (64 bits) of SHA-256 over the JSON array
 * [cluster, namespace, workload, fingerprint]. Namespace is part of a workload's identity
 * (two Deployments named `api` in two namespaces are two workloads).
 */
export function errorGroupId(
  cluster: string,
  namespace: string,
  workload: string,
  fingerprint: string,
): string {
  return createHash('sha256')
    .update(JSON.stringify([cluster, namespace, workload, fingerprint]))
    .digest('hex')
    .slice(0, 16);
}

/** Points for one field of the best-sample score. */
export const SAMPLE_POINTS = Object.freeze({ stack: 100, messageMax: 100, url: 30, requestId: 10 });

/**
 * Best-sample score (SPEC §4): a non-empty stack +100, message length (UTF-16 code units of the
 * uncut message) up to +100, a non-empty url +30, a non-empty request id +10.
 */
export function sampleScore(o: Pick<ErrorOccurrence, 'message' | 'stack' | 'url' | 'requestId'>): number {
  let score = Math.min(o.message.length, SAMPLE_POINTS.messageMax);
  if (o.stack !== undefined && o.stack.length > 0) score += SAMPLE_POINTS.stack;
  if (o.url !== undefined && o.url.length > 0) score += SAMPLE_POINTS.url;
  if (o.requestId !== undefined && o.requestId.length > 0) score += SAMPLE_POINTS.requestId;
  return score;
}

/** Cuts `s` to at most `max` UTF-16 code units without splitting a surrogate pair. */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return s.slice(0, end);
}
