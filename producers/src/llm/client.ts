/**
 * The LLM client (SPEC §7, LLM part): chat completions on any OpenAI-compatible endpoint (OpenAI,
 * Ollama's `/v1`, vLLM, a llama.cpp server, an Anthropic-compatible gateway) through the `openai`
 * SDK, with hetu's own retry policy and circuit breaker around it.
 *
 * - The SDK's own retries are off (`maxRetries: 0`) and its 10-minute default timeout is replaced:
 *   each attempt has `timeoutMs` (default 60 s) from sending to the end of the body.
 * - Retries (default 2, so 3 attempts) only on 429, 5xx, timeouts and connection errors, with
 *   exponential back-off and jitter (a `Retry-After` header is honoured up to 30 s).
 * - A circuit breaker opens after `breakerThreshold` (5) consecutive failed *calls* (a call fails
 *   when its last attempt fails with a retryable error); while open, calls are refused at once with
 *   `HETU_LLM_CIRCUIT_OPEN` and nothing is sent. After `breakerCooldownMs` one trial call (a single
 *   attempt) is let through: success closes the breaker, failure opens it again. An answer that is
 *   an error the caller made (400, 401, 404, …) shows the endpoint is up: it closes the breaker.
 * - The API key never appears in an error, a log line or a thrown object: errors are built here
 *   from the status and a scrubbed excerpt of the server's message, without the SDK error as cause.
 * - The SDK is given every option it would otherwise read from the environment (`OPENAI_*`), except
 *   `OPENAI_CUSTOM_HEADERS`, which it always reads.
 *
 * Not a processor: this runs in the LLM worker, off the consumer loop (DESIGN §3).
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, OpenAIError } from 'openai';
import { LLM_DEFAULTS, LlmError, maskUrl, type LlmClientConfig } from './config.ts';

export { LLM_DEFAULTS, LlmError, llmConfigFromEnv, maskUrl } from './config.ts';
export type { LlmClientConfig, LlmConfig } from './config.ts';

const RETRY_AFTER_CAP_MS = 30_000;

export interface LlmClientDeps {
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
}

export interface LlmMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface LlmCompletion {
  readonly text: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** The model that answered (as the server names it), else the configured one. */
  readonly model: string;
  /** True when the server reported no usage and the tokens are estimated (characters ÷ 4). */
  readonly estimated: boolean;
  /** Attempts the call took (1 without retries). */
  readonly attempts: number;
  readonly finishReason: string | null;
}

export interface BreakerStatus {
  readonly state: 'closed' | 'open' | 'half-open';
  readonly consecutiveFailures: number;
  /** While open: when a trial call will be let through. */
  readonly retryAt: number | null;
}

export interface LlmClient {
  complete(
    messages: readonly LlmMessage[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<LlmCompletion>;
  breaker(): BreakerStatus;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Characters ÷ 4, rounded up: the estimate used when a server reports no usage. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Estimated input tokens of `messages` (their contents' characters ÷ 4). */
export function estimateInputTokens(messages: readonly LlmMessage[]): number {
  return estimateTokens(messages.map((m) => m.content).join(''));
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function transientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

interface Resolved {
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKey: string | undefined;
  readonly maxOutputTokens: number;
  readonly temperature: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly breakerThreshold: number;
  readonly breakerCooldownMs: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
}

function resolve(config: LlmClientConfig): Resolved {
  return {
    baseUrl: config.baseUrl,
    model: config.model,
    apiKey: config.apiKey === undefined || config.apiKey === '' ? undefined : config.apiKey,
    maxOutputTokens: config.maxOutputTokens ?? LLM_DEFAULTS.maxOutputTokens,
    temperature: config.temperature ?? LLM_DEFAULTS.temperature,
    timeoutMs: config.timeoutMs ?? LLM_DEFAULTS.timeoutMs,
    retries: Math.max(0, config.retries ?? LLM_DEFAULTS.retries),
    breakerThreshold: Math.max(1, config.breakerThreshold ?? LLM_DEFAULTS.breakerThreshold),
    breakerCooldownMs: config.breakerCooldownMs ?? LLM_DEFAULTS.breakerCooldownMs,
    retryBaseDelayMs: config.retryBaseDelayMs ?? LLM_DEFAULTS.retryBaseDelayMs,
    retryMaxDelayMs: config.retryMaxDelayMs ?? LLM_DEFAULTS.retryMaxDelayMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Circuit breaker

class Breaker {
  private state: 'closed' | 'open' | 'half-open' = 'closed';
  private failures = 0;
  private openedAt = 0;
  private readonly threshold: number;
  private readonly cooldownMs: number;

  constructor(threshold: number, cooldownMs: number) {
    this.threshold = threshold;
    this.cooldownMs = cooldownMs;
  }

  /** Lets a call through (`trial` when it is the half-open probe) or throws `HETU_LLM_CIRCUIT_OPEN`. */
  admit(now: number): { trial: boolean } {
    if (this.state === 'closed') return { trial: false };
    if (this.state === 'open' && now >= this.openedAt + this.cooldownMs) {
      this.state = 'half-open';
      return { trial: true };
    }
    const retryAt = this.state === 'open' ? this.openedAt + this.cooldownMs : null;
    const when =
      retryAt === null ? 'until the trial call running now ends' : `until ${new Date(retryAt).toISOString()}`;
    throw new LlmError(
      'HETU_LLM_CIRCUIT_OPEN',
      `The LLM endpoint failed ${plural(this.failures, 'call')} in a row, so calls are paused ${when} (circuit breaker open); nothing was sent.`,
      { transient: true, attempts: 0, retryAt },
    );
  }

  success(): void {
    this.state = 'closed';
    this.failures = 0;
  }

  failure(now: number): void {
    this.failures++;
    if (this.state === 'half-open' || this.failures >= this.threshold) {
      this.state = 'open';
      this.openedAt = now;
    }
  }

  /** The call ended without telling anything about the endpoint (the caller aborted it). */
  neutral(): void {
    if (this.state === 'half-open') this.state = 'open';
  }

  status(now: number): BreakerStatus {
    const state = this.state === 'open' && now >= this.openedAt + this.cooldownMs ? 'half-open' : this.state;
    return {
      state,
      consecutiveFailures: this.failures,
      retryAt: this.state === 'open' ? this.openedAt + this.cooldownMs : null,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Client

/** Creates a client; nothing is sent until `complete` is called. */
export function createLlmClient(config: LlmClientConfig, deps: LlmClientDeps = {}): LlmClient {
  const c = resolve(config);
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const where = maskUrl(c.baseUrl);
  const breaker = new Breaker(c.breakerThreshold, c.breakerCooldownMs);
  const sdk = new OpenAI({
    baseURL: c.baseUrl,
    // The SDK insists on a credential; without a key the Authorization header is removed below.
    apiKey: c.apiKey ?? 'unused',
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: c.timeoutMs,
    logLevel: 'off',
    ...(c.apiKey === undefined ? { defaultHeaders: { Authorization: null } } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });

  /** The server's text with the API key (and anything shaped like a bearer token) removed, cut short. */
  function scrub(text: string): string {
    let out = text;
    if (c.apiKey !== undefined && c.apiKey.length >= 4) out = out.split(c.apiKey).join('[REDACTED:api-key]');
    out = out.replace(/(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[REDACTED:api-key]');
    out = [...out].map((ch) => (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? ' ' : ch)).join('');
    out = out.replace(/ {2,}/g, ' ').trim();
    return out.length > 300 ? `${out.slice(0, 300)}…` : out;
  }

  function serverMessage(err: APIError): string {
    const body = err.error as { message?: unknown; error?: { message?: unknown } } | undefined;
    const message =
      typeof body?.message === 'string'
        ? body.message
        : typeof body?.error?.message === 'string'
          ? body.error.message
          : '';
    return scrub(message);
  }

  function hint(status: number): string {
    if (status === 401 || status === 403) return '; check HETU_LLM_API_KEY';
    if (status === 404) return '; check HETU_LLM_MODEL and HETU_LLM_BASE_URL (it usually ends in /v1)';
    if (status === 429) return '; the provider is rate limiting';
    return '';
  }

  function retryAfterMs(err: APIError): number | null {
    const headers = err.headers;
    if (headers === undefined) return null;
    const ms = Number(headers.get('retry-after-ms'));
    if (Number.isFinite(ms) && ms > 0) return ms;
    const s = Number(headers.get('retry-after'));
    if (Number.isFinite(s) && s > 0) return s * 1_000;
    return null;
  }

  function connectionReason(err: unknown): string {
    let e: unknown = err;
    for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{2,40}$/.test(code)) return code;
      e = (e as { cause?: unknown }).cause;
    }
    return 'connection error';
  }

  interface Failure {
    readonly error: LlmError;
    readonly retryAfterMs: number | null;
  }

  function classify(raw: unknown, attempts: number, timedOut: boolean, aborted: boolean): Failure {
    const tries = plural(attempts, 'attempt');
    if (aborted) {
      return {
        error: new LlmError('HETU_LLM_ABORTED', `The LLM call was cancelled (${tries}).`, { attempts }),
        retryAfterMs: null,
      };
    }
    if (timedOut || raw instanceof APIConnectionTimeoutError) {
      return {
        error: new LlmError(
          'HETU_LLM_TIMEOUT',
          `The LLM endpoint ${where} did not answer within ${c.timeoutMs} ms (${tries}).`,
          { transient: true, attempts },
        ),
        retryAfterMs: null,
      };
    }
    if (raw instanceof APIConnectionError) {
      return {
        error: new LlmError(
          'HETU_LLM_UNAVAILABLE',
          `The LLM endpoint ${where} could not be reached (${connectionReason(raw)}, ${tries}); check HETU_LLM_BASE_URL and that the server runs.`,
          { transient: true, attempts },
        ),
        retryAfterMs: null,
      };
    }
    if (raw instanceof APIError && typeof raw.status === 'number') {
      const status = raw.status;
      const detail = serverMessage(raw);
      return {
        error: new LlmError(
          `HETU_LLM_HTTP_${status}`,
          `The LLM endpoint ${where} answered HTTP ${status}${detail === '' ? '' : ` (${detail})`} after ${tries}${hint(status)}.`,
          { transient: transientStatus(status), status, attempts },
        ),
        retryAfterMs: retryAfterMs(raw),
      };
    }
    const kind =
      raw instanceof OpenAIError || raw instanceof SyntaxError
        ? 'it is not a chat completion'
        : 'it could not be read';
    return {
      error: new LlmError(
        'HETU_LLM_BAD_RESPONSE',
        `The LLM endpoint ${where} answered, but ${kind} (${tries}).`,
        {
          attempts,
        },
      ),
      retryAfterMs: null,
    };
  }

  type Attempt =
    | { readonly ok: true; readonly value: Omit<LlmCompletion, 'attempts'> }
    | { readonly ok: false; readonly raw: unknown; readonly timedOut: boolean };

  /** One request; never throws. */
  async function attempt(messages: readonly LlmMessage[], signal: AbortSignal | undefined): Promise<Attempt> {
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(), c.timeoutMs);
    const combined = signal === undefined ? timer.signal : AbortSignal.any([signal, timer.signal]);
    try {
      const completion = await sdk.chat.completions.create(
        {
          model: c.model,
          messages: messages.map((m) => ({ role: m.role, content: m.content })),
          max_tokens: c.maxOutputTokens,
          temperature: c.temperature,
        },
        { signal: combined, timeout: c.timeoutMs, maxRetries: 0 },
      );
      const choice = completion.choices?.[0];
      const text = choice?.message?.content;
      if (typeof text !== 'string') throw new OpenAIError('no message content');
      const usage = completion.usage;
      const reportedIn = usage?.prompt_tokens;
      const reportedOut = usage?.completion_tokens;
      const hasIn = typeof reportedIn === 'number' && Number.isFinite(reportedIn) && reportedIn >= 0;
      const hasOut = typeof reportedOut === 'number' && Number.isFinite(reportedOut) && reportedOut >= 0;
      return {
        ok: true,
        value: {
          text,
          inputTokens: hasIn ? reportedIn : estimateInputTokens(messages),
          outputTokens: hasOut ? reportedOut : estimateTokens(text),
          model: typeof completion.model === 'string' && completion.model !== '' ? completion.model : c.model,
          estimated: !hasIn || !hasOut,
          finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : null,
        },
      };
    } catch (raw) {
      return { ok: false, raw, timedOut: timer.signal.aborted && !(signal?.aborted ?? false) };
    } finally {
      clearTimeout(handle);
    }
  }

  function backoff(retry: number, retryAfter: number | null): number {
    const exp = Math.min(c.retryMaxDelayMs, c.retryBaseDelayMs * 2 ** (retry - 1));
    const jittered = Math.round(exp * (0.5 + random() * 0.5));
    return retryAfter === null ? jittered : Math.min(RETRY_AFTER_CAP_MS, Math.max(jittered, retryAfter));
  }

  async function complete(
    messages: readonly LlmMessage[],
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<LlmCompletion> {
    const signal = options.signal;
    if (signal?.aborted)
      throw new LlmError('HETU_LLM_ABORTED', 'The LLM call was cancelled before it was sent.');
    const { trial } = breaker.admit(now());
    const maxAttempts = trial ? 1 : c.retries + 1;
    for (let attempts = 1; ; attempts++) {
      const result = await attempt(messages, signal);
      if (result.ok) {
        breaker.success();
        return { ...result.value, attempts };
      }
      const failure = classify(result.raw, attempts, result.timedOut, signal?.aborted ?? false);
      const err = failure.error;
      if (err.code === 'HETU_LLM_ABORTED') {
        breaker.neutral();
        throw err;
      }
      if (!err.transient || attempts >= maxAttempts) {
        if (err.transient) breaker.failure(now());
        else breaker.success();
        throw err;
      }
      try {
        await sleep(backoff(attempts, failure.retryAfterMs), signal);
      } catch {
        breaker.neutral();
        throw new LlmError(
          'HETU_LLM_ABORTED',
          `The LLM call was cancelled (${plural(attempts, 'attempt')}).`,
          {
            attempts,
          },
        );
      }
    }
  }

  return { complete, breaker: () => breaker.status(now()) };
}

// ---------------------------------------------------------------------------------------------
// Configuration

export type LlmConfigDescription =
  | { readonly configured: false; readonly status: string }
  | {
      readonly configured: true;
      readonly status: string;
      readonly baseUrl: string;
      readonly model: string;
      /** Never the key itself. */
      readonly apiKey: 'set' | 'not set';
      readonly maxOutputTokens: number;
      readonly temperature: number;
      readonly timeoutMs: number;
      readonly retries: number;
      readonly dailyTokens: number | null;
    };

/** What status output shows of the configuration: the key masked, credentials in the URL masked. */
export function describeLlmConfig(
  config: (LlmClientConfig & { readonly dailyTokens?: number }) | undefined,
): LlmConfigDescription {
  if (config === undefined) {
    return {
      configured: false,
      status: 'not configured (set HETU_LLM_BASE_URL and HETU_LLM_MODEL to enable the LLM second opinion)',
    };
  }
  const c = resolve(config);
  const baseUrl = maskUrl(c.baseUrl);
  return {
    configured: true,
    status: `configured: ${c.model} at ${baseUrl}`,
    baseUrl,
    model: c.model,
    apiKey: c.apiKey === undefined ? 'not set' : 'set',
    maxOutputTokens: c.maxOutputTokens,
    temperature: c.temperature,
    timeoutMs: c.timeoutMs,
    retries: c.retries,
    dailyTokens: config.dailyTokens ?? null,
  };
}
