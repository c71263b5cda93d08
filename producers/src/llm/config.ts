/**
 * The LLM client's configuration: defaults, validation of the HETU_LLM_* variables, its error
 * type. Apart from the client (client.ts) so that reading a configuration does not load the
 * OpenAI SDK and the worker: every hetu process reads it, collectors included.
 */
import { z } from 'zod';
import { HetuError } from '@hetu/streams';

export interface LlmClientConfig {
  /** Base URL of the OpenAI-compatible API, usually ending in `/v1`. */
  readonly baseUrl: string;
  readonly model: string;
  /** Sent as `Authorization: Bearer …`; no Authorization header at all when absent. */
  readonly apiKey?: string;
  /** `max_tokens` of every call (default 4 096). */
  readonly maxOutputTokens?: number;
  /** Default 0.2. */
  readonly temperature?: number;
  /** Per attempt, from sending to the end of the answer's body (default 60 000). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt (default 2). */
  readonly retries?: number;
  /** Consecutive failed calls that open the circuit breaker (default 5). */
  readonly breakerThreshold?: number;
  /** How long the breaker stays open before a trial call (default 60 000). */
  readonly breakerCooldownMs?: number;
  /** First back-off delay (default 500 ms), doubled per retry, with jitter (× 0.5 … 1). */
  readonly retryBaseDelayMs?: number;
  /** Largest back-off delay (default 8 000 ms). */
  readonly retryMaxDelayMs?: number;
}

/** The client config plus the daily token budget, as `llmConfigFromEnv` returns it (frozen). */
export interface LlmConfig extends LlmClientConfig {
  readonly maxOutputTokens: number;
  readonly dailyTokens: number;
}

/** Clock, sleep and randomness of the retry policy and the breaker; tests pass their own. */
export const LLM_DEFAULTS = Object.freeze({
  maxOutputTokens: 4_096,
  temperature: 0.2,
  timeoutMs: 60_000,
  retries: 2,
  breakerThreshold: 5,
  breakerCooldownMs: 60_000,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 8_000,
  dailyTokens: 1_000_000,
});
const MAX_OUTPUT_TOKENS_CAP = 4_096;

/**
 * A failure of the LLM client, identified by `code`: `HETU_LLM_TIMEOUT`, `HETU_LLM_UNAVAILABLE`,
 * `HETU_LLM_CIRCUIT_OPEN`, `HETU_LLM_HTTP_<status>`, `HETU_LLM_BAD_RESPONSE`, `HETU_LLM_ABORTED`,
 * `HETU_LLM_CONFIG_INVALID`. `transient` is true when a later call may succeed.
 */
export class LlmError extends HetuError {
  /** The HTTP status for `HETU_LLM_HTTP_*`, else null. */
  readonly status: number | null;
  /** Attempts made (0 when nothing was sent). */
  readonly attempts: number;
  /** For `HETU_LLM_CIRCUIT_OPEN`: when a trial call will be let through, or null while one runs. */
  readonly retryAt: number | null;

  constructor(
    code: string,
    message: string,
    options: { transient?: boolean; status?: number | null; attempts?: number; retryAt?: number | null } = {},
  ) {
    super(code, message, { transient: options.transient ?? false });
    this.name = 'LlmError';
    this.status = options.status ?? null;
    this.attempts = options.attempts ?? 0;
    this.retryAt = options.retryAt ?? null;
  }

  /** Whether anything reached the endpoint (false: refused by the breaker, aborted before sending). */
  get sent(): boolean {
    return this.attempts > 0;
  }
}

/** The URL with any `user:password@` replaced by `***@`, for messages and status output. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//***@');
  }
}

type EnvKey =
  | 'HETU_LLM_BASE_URL'
  | 'HETU_LLM_MODEL'
  | 'HETU_LLM_API_KEY'
  | 'HETU_LLM_MAX_TOKENS'
  | 'HETU_LLM_DAILY_TOKENS';

const HttpUrl = z.url({ protocol: /^https?$/ });

function configError(sentence: string): LlmError {
  return new LlmError('HETU_LLM_CONFIG_INVALID', sentence);
}

function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw configError(`${name} must be a whole number ${range}, got ${JSON.stringify(raw.slice(0, 40))}.`);
  }
  return n;
}

/**
 * The LLM configuration from `HETU_LLM_*` variables, validated and frozen; `undefined` when neither
 * a base URL nor a model is set (no LLM is a normal state). Throws `HETU_LLM_CONFIG_INVALID` with
 * one sentence for a bad value; the API key is never echoed.
 */
export function llmConfigFromEnv(env: Readonly<Record<string, string | undefined>>): LlmConfig | undefined {
  const get = (k: EnvKey): string | undefined => {
    const v = env[k]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const baseUrl = get('HETU_LLM_BASE_URL');
  const model = get('HETU_LLM_MODEL');
  if (baseUrl === undefined && model === undefined) return undefined;
  if (baseUrl === undefined) {
    throw configError(
      'HETU_LLM_MODEL is set but HETU_LLM_BASE_URL is not: set both to enable the LLM, or neither.',
    );
  }
  if (model === undefined) {
    throw configError(
      'HETU_LLM_BASE_URL is set but HETU_LLM_MODEL is not: set both to enable the LLM, or neither.',
    );
  }
  if (!HttpUrl.safeParse(baseUrl).success) {
    throw configError('HETU_LLM_BASE_URL must be an http(s) URL such as http://localhost:11434/v1.');
  }
  if (model.length > 200) throw configError('HETU_LLM_MODEL must be at most 200 characters.');
  const apiKey = get('HETU_LLM_API_KEY');
  const maxOutputTokens = wholeNumber(
    'HETU_LLM_MAX_TOKENS',
    get('HETU_LLM_MAX_TOKENS'),
    LLM_DEFAULTS.maxOutputTokens,
    1,
    MAX_OUTPUT_TOKENS_CAP,
  );
  const dailyTokens = wholeNumber(
    'HETU_LLM_DAILY_TOKENS',
    get('HETU_LLM_DAILY_TOKENS'),
    LLM_DEFAULTS.dailyTokens,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  return Object.freeze({
    baseUrl,
    model,
    ...(apiKey === undefined ? {} : { apiKey }),
    maxOutputTokens,
    dailyTokens,
  });
}
