import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLlmClient,
  describeLlmConfig,
  estimateInputTokens,
  llmConfigFromEnv,
  maskUrl,
} from './client.ts';
import type { LlmClientDeps, LlmError, LlmMessage } from './client.ts';
import { startFakeLlmServer } from './fake-server.ts';
import type { FakeLlmScript, FakeLlmServer } from './fake-server.ts';

const KEY = 'sk-hetu-test-0123456789abcdefSECRETKEY';
const MESSAGES: LlmMessage[] = [
  { role: 'system', content: 'Answer with JSON.' },
  { role: 'user', content: 'What happened to shop/api?' },
];
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);

const servers: FakeLlmServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(script?: FakeLlmScript): Promise<FakeLlmServer> {
  const s = await startFakeLlmServer(script === undefined ? {} : { script });
  servers.push(s);
  return s;
}

/** A clock the test moves, sleeps that return at once (recording their length), and fixed jitter. */
function fakeTime(): { deps: LlmClientDeps; sleeps: number[]; advance: (ms: number) => void } {
  let clock = T0;
  const sleeps: number[] = [];
  return {
    deps: {
      now: () => clock,
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    },
    sleeps,
    advance: (ms) => {
      clock += ms;
    },
  };
}

async function failure(p: Promise<unknown>): Promise<LlmError> {
  try {
    await p;
  } catch (err) {
    return err as LlmError;
  }
  throw new Error('expected the call to fail');
}

function leaks(err: unknown): boolean {
  const views = [
    String(err),
    JSON.stringify(err),
    inspect(err, { showHidden: true, depth: Infinity, getters: true }),
    (err as Error).stack ?? '',
  ];
  return views.some((v) => v.includes(KEY) || v.includes(KEY.slice(12)));
}

describe('createLlmClient', () => {
  it('sends the chat request with the Authorization header and returns text and usage', async () => {
    const s = await server(() => ({
      content: '{"summary":"ok"}',
      usage: { prompt_tokens: 120, completion_tokens: 30 },
    }));
    const client = createLlmClient({ baseUrl: s.baseUrl, model: 'test-model', apiKey: KEY });
    const result = await client.complete(MESSAGES);
    expect(result).toEqual({
      text: '{"summary":"ok"}',
      inputTokens: 120,
      outputTokens: 30,
      model: 'test-model',
      estimated: false,
      attempts: 1,
      finishReason: 'stop',
    });
    expect(s.requests.length).toBe(1);
    const req = s.requests[0]!;
    expect([req.method, req.path]).toEqual(['POST', '/v1/chat/completions']);
    expect(req.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(req.body).toEqual({ model: 'test-model', messages: MESSAGES, max_tokens: 4096, temperature: 0.2 });
  });

  it('sends no Authorization header without a key', async () => {
    const s = await server();
    await createLlmClient({ baseUrl: s.baseUrl, model: 'm' }).complete(MESSAGES);
    expect(s.requests[0]!.headers['authorization']).toBeUndefined();
  });

  it('estimates tokens as characters ÷ 4 and says so when the server reports no usage', async () => {
    const s = await server(() => ({ content: 'x'.repeat(41), usage: null }));
    const result = await createLlmClient({ baseUrl: s.baseUrl, model: 'm' }).complete(MESSAGES);
    // 17 + 26 = 43 characters of prompt → 11; 41 characters of answer → 11.
    expect(estimateInputTokens(MESSAGES)).toBe(11);
    expect([result.inputTokens, result.outputTokens, result.estimated]).toEqual([11, 11, true]);
  });

  it('retries a 500 with exponential back-off and jitter, then succeeds: exactly 3 requests', async () => {
    const s = await server((_req, i) =>
      i < 2 ? { status: 500, body: { error: { message: 'boom' } } } : { content: 'fine' },
    );
    const t = fakeTime();
    const result = await createLlmClient({ baseUrl: s.baseUrl, model: 'm', apiKey: KEY }, t.deps).complete(
      MESSAGES,
    );
    expect(result.text).toBe('fine');
    expect(result.attempts).toBe(3);
    expect(s.requests.length).toBe(3);
    // 500 ms × 2^(n-1) × (0.5 + 0.5 × random), random = 0.5.
    expect(t.sleeps).toEqual([375, 750]);
  });

  it('honours Retry-After on 429', async () => {
    const s = await server((_req, i) =>
      i === 0
        ? { status: 429, headers: { 'retry-after': '2' }, body: { error: { message: 'slow down' } } }
        : {},
    );
    const t = fakeTime();
    await createLlmClient({ baseUrl: s.baseUrl, model: 'm' }, t.deps).complete(MESSAGES);
    expect(t.sleeps).toEqual([2_000]);
    expect(s.requests.length).toBe(2);
  });

  it('gives up after the retries with the last error', async () => {
    const s = await server(() => ({ status: 503, body: { error: { message: 'overloaded' } } }));
    const t = fakeTime();
    const err = await failure(createLlmClient({ baseUrl: s.baseUrl, model: 'm' }, t.deps).complete(MESSAGES));
    expect([err.code, err.status, err.transient, err.attempts, err.sent]).toEqual([
      'HETU_LLM_HTTP_503',
      503,
      true,
      3,
      true,
    ]);
    expect(err.message).toBe(
      `The LLM endpoint ${s.baseUrl} answered HTTP 503 (overloaded) after 3 attempts.`,
    );
    expect(s.requests.length).toBe(3);
  });

  it('does not retry a 400', async () => {
    const s = await server(() => ({
      status: 400,
      body: { error: { message: "Unsupported parameter: 'max_tokens'" } },
    }));
    const t = fakeTime();
    const err = await failure(createLlmClient({ baseUrl: s.baseUrl, model: 'm' }, t.deps).complete(MESSAGES));
    expect([err.code, err.status, err.transient, err.attempts]).toEqual(['HETU_LLM_HTTP_400', 400, false, 1]);
    expect(err.message).toBe(
      `The LLM endpoint ${s.baseUrl} answered HTTP 400 (Unsupported parameter: 'max_tokens') after 1 attempt.`,
    );
    expect(s.requests.length).toBe(1);
    expect(t.sleeps).toEqual([]);
  });

  it('does not retry an answer that is not a chat completion', async () => {
    const s = await server(() => ({ body: 'this is not json' }));
    const err = await failure(
      createLlmClient({ baseUrl: s.baseUrl, model: 'm' }, fakeTime().deps).complete(MESSAGES),
    );
    expect([err.code, err.transient, err.attempts]).toEqual(['HETU_LLM_BAD_RESPONSE', false, 1]);
    expect(s.requests.length).toBe(1);
  });

  it('times out a hanging server per attempt, and retries the timeout', async () => {
    const s = await server(() => ({ hang: true }));
    const t = fakeTime();
    const client = createLlmClient({ baseUrl: s.baseUrl, model: 'm', timeoutMs: 200, retries: 1 }, t.deps);
    const err = await failure(client.complete(MESSAGES));
    expect([err.code, err.transient, err.attempts]).toEqual(['HETU_LLM_TIMEOUT', true, 2]);
    expect(err.message).toBe(`The LLM endpoint ${s.baseUrl} did not answer within 200 ms (2 attempts).`);
    expect(s.requests.length).toBe(2);
  });

  it('reports an unreachable endpoint as unavailable', async () => {
    const gone = await startFakeLlmServer();
    await gone.close();
    const err = await failure(
      createLlmClient({ baseUrl: gone.baseUrl, model: 'm', retries: 0 }, fakeTime().deps).complete(MESSAGES),
    );
    expect([err.code, err.transient]).toEqual(['HETU_LLM_UNAVAILABLE', true]);
    expect(err.message).toBe(
      `The LLM endpoint ${gone.baseUrl} could not be reached (ECONNREFUSED, 1 attempt); check HETU_LLM_BASE_URL and that the server runs.`,
    );
  });

  it('is cancelled by the caller’s signal without counting against the endpoint', async () => {
    const s = await server(() => ({ hang: true }));
    const client = createLlmClient({ baseUrl: s.baseUrl, model: 'm', breakerThreshold: 1 }, fakeTime().deps);
    const controller = new AbortController();
    const call = failure(client.complete(MESSAGES, { signal: controller.signal }));
    await s.waitForRequests(1);
    controller.abort();
    const err = await call;
    expect([err.code, err.attempts]).toEqual(['HETU_LLM_ABORTED', 1]);
    expect(client.breaker()).toEqual({ state: 'closed', consecutiveFailures: 0, retryAt: null });
    expect(s.requests.length).toBe(1);
  });

  it('opens the breaker after 5 failed calls and refuses the 6th without a request', async () => {
    const s = await server(() => ({ status: 500, body: { error: { message: 'down' } } }));
    const t = fakeTime();
    const client = createLlmClient({ baseUrl: s.baseUrl, model: 'm', apiKey: KEY }, t.deps);
    for (let i = 0; i < 5; i++) {
      expect((await failure(client.complete(MESSAGES))).code).toBe('HETU_LLM_HTTP_500');
    }
    expect(s.requests.length).toBe(15);
    expect(client.breaker()).toEqual({ state: 'open', consecutiveFailures: 5, retryAt: T0 + 60_000 });
    const refused = await failure(client.complete(MESSAGES));
    expect([refused.code, refused.transient, refused.attempts, refused.sent, refused.retryAt]).toEqual([
      'HETU_LLM_CIRCUIT_OPEN',
      true,
      0,
      false,
      T0 + 60_000,
    ]);
    expect(refused.message).toBe(
      'The LLM endpoint failed 5 calls in a row, so calls are paused until 2026-11-26T08:01:00.000Z (circuit breaker open); nothing was sent.',
    );
    expect(s.requests.length).toBe(15);
  });

  it('lets one trial call through after the cool-down: success closes the breaker', async () => {
    let healthy = false;
    const s = await server(() =>
      healthy ? { content: 'back' } : { status: 502, body: { error: { message: 'bad gateway' } } },
    );
    const t = fakeTime();
    const client = createLlmClient({ baseUrl: s.baseUrl, model: 'm', retries: 0 }, t.deps);
    for (let i = 0; i < 5; i++) await failure(client.complete(MESSAGES));
    t.advance(59_999);
    expect((await failure(client.complete(MESSAGES))).code).toBe('HETU_LLM_CIRCUIT_OPEN');
    t.advance(1);
    expect(client.breaker().state).toBe('half-open');
    healthy = true;
    expect((await client.complete(MESSAGES)).text).toBe('back');
    expect(client.breaker()).toEqual({ state: 'closed', consecutiveFailures: 0, retryAt: null });
    expect(s.requests.length).toBe(6);
  });

  it('a failed trial call (one attempt, no retries) opens the breaker again', async () => {
    const s = await server(() => ({ status: 500, body: {} }));
    const t = fakeTime();
    const client = createLlmClient({ baseUrl: s.baseUrl, model: 'm' }, t.deps);
    for (let i = 0; i < 5; i++) await failure(client.complete(MESSAGES));
    expect(s.requests.length).toBe(15);
    t.advance(60_000);
    const trial = await failure(client.complete(MESSAGES));
    expect([trial.code, trial.attempts]).toEqual(['HETU_LLM_HTTP_500', 1]);
    expect(s.requests.length).toBe(16);
    expect(client.breaker()).toEqual({ state: 'open', consecutiveFailures: 6, retryAt: T0 + 120_000 });
    expect((await failure(client.complete(MESSAGES))).code).toBe('HETU_LLM_CIRCUIT_OPEN');
    expect(s.requests.length).toBe(16);
  });

  it('a non-retryable answer shows the endpoint is up: it resets the failure count', async () => {
    let status = 500;
    const s = await server(() => ({ status, body: { error: { message: 'x' } } }));
    const client = createLlmClient({ baseUrl: s.baseUrl, model: 'm', retries: 0 }, fakeTime().deps);
    for (let i = 0; i < 4; i++) await failure(client.complete(MESSAGES));
    expect(client.breaker().consecutiveFailures).toBe(4);
    status = 404;
    await failure(client.complete(MESSAGES));
    expect(client.breaker()).toEqual({ state: 'closed', consecutiveFailures: 0, retryAt: null });
  });

  it('never leaks the API key in an error, even when the server echoes it', async () => {
    const s = await server((req, i) => {
      const auth = String(req.headers['authorization']);
      if (i === 0)
        return {
          status: 401,
          body: { error: { message: `Incorrect API key provided: ${KEY}. Header was ${auth}.` } },
        };
      if (i === 1) return { status: 500, body: { error: { message: `upstream said ${auth}` } } };
      return { hang: true };
    });
    const t = fakeTime();
    const client = createLlmClient(
      { baseUrl: s.baseUrl, model: 'm', apiKey: KEY, retries: 0, timeoutMs: 200 },
      t.deps,
    );
    const unauthorized = await failure(client.complete(MESSAGES));
    expect(unauthorized.code).toBe('HETU_LLM_HTTP_401');
    expect(unauthorized.message).toBe(
      `The LLM endpoint ${s.baseUrl} answered HTTP 401 (Incorrect API key provided: [REDACTED:api-key]. Header was Bearer [REDACTED:api-key].) after 1 attempt; check HETU_LLM_API_KEY.`,
    );
    const serverError = await failure(client.complete(MESSAGES));
    const timeout = await failure(client.complete(MESSAGES));
    expect([serverError.code, timeout.code]).toEqual(['HETU_LLM_HTTP_500', 'HETU_LLM_TIMEOUT']);
    for (const err of [unauthorized, serverError, timeout]) expect(leaks(err)).toBe(false);
    expect(leaks(new Error(`key ${KEY}`))).toBe(true); // the detector itself works
    // The server did receive it: the test would pass vacuously otherwise.
    expect(s.requests.map((r) => r.headers['authorization'])).toEqual([
      `Bearer ${KEY}`,
      `Bearer ${KEY}`,
      `Bearer ${KEY}`,
    ]);
    expect(JSON.stringify(describeLlmConfig({ baseUrl: s.baseUrl, model: 'm', apiKey: KEY }))).not.toContain(
      KEY,
    );
    expect(inspect(client, { showHidden: true, depth: Infinity })).not.toContain(KEY);
  });
});

describe('fake server', () => {
  it('lists models and answers 404 elsewhere, recording every request', async () => {
    const s = await startFakeLlmServer({ models: ['llama3', 'qwen'] });
    servers.push(s);
    const models = (await (await fetch(`${s.baseUrl}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['llama3', 'qwen']);
    expect((await fetch(`${s.baseUrl}/embeddings`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect(s.requests.map((r) => [r.method, r.path])).toEqual([
      ['GET', '/v1/models'],
      ['POST', '/v1/embeddings'],
    ]);
    expect(s.chatRequests()).toEqual([]);
  });

  it('close() ends hanging requests and is idempotent', async () => {
    const s = await startFakeLlmServer({ script: () => ({ hang: true }) });
    const pending = fetch(`${s.baseUrl}/chat/completions`, {
      method: 'POST',
      body: '{"model":"m","messages":[]}',
    }).then(
      () => 'answered',
      () => 'ended',
    );
    await s.waitForRequests(1);
    await Promise.all([s.close(), s.close()]);
    expect(await pending).toBe('ended');
    expect(s.chatRequests().length).toBe(1);
  });
});

describe('llmConfigFromEnv', () => {
  it('is undefined when no LLM is configured', () => {
    expect(llmConfigFromEnv({})).toBeUndefined();
    expect(
      llmConfigFromEnv({ HETU_LLM_BASE_URL: ' ', HETU_LLM_MODEL: '', HETU_LLM_API_KEY: KEY }),
    ).toBeUndefined();
  });

  it('reads every variable, with defaults, frozen', () => {
    const minimal = llmConfigFromEnv({
      HETU_LLM_BASE_URL: 'http://localhost:11434/v1',
      HETU_LLM_MODEL: 'llama3.1:8b',
    });
    expect(minimal).toEqual({
      baseUrl: 'http://localhost:11434/v1',
      model: 'llama3.1:8b',
      maxOutputTokens: 4096,
      dailyTokens: 1_000_000,
    });
    expect(Object.isFrozen(minimal)).toBe(true);
    expect(
      llmConfigFromEnv({
        HETU_LLM_BASE_URL: 'https://api.openai.com/v1',
        HETU_LLM_MODEL: 'gpt-4.1-mini',
        HETU_LLM_API_KEY: KEY,
        HETU_LLM_MAX_TOKENS: '2048',
        HETU_LLM_DAILY_TOKENS: '250000',
      }),
    ).toEqual({
      baseUrl: 'https://api.openai.com/v1',
      model: 'gpt-4.1-mini',
      apiKey: KEY,
      maxOutputTokens: 2048,
      dailyTokens: 250_000,
    });
  });

  it.each([
    [
      { HETU_LLM_MODEL: 'm' },
      'HETU_LLM_MODEL is set but HETU_LLM_BASE_URL is not: set both to enable the LLM, or neither.',
    ],
    [
      { HETU_LLM_BASE_URL: 'http://x/v1' },
      'HETU_LLM_BASE_URL is set but HETU_LLM_MODEL is not: set both to enable the LLM, or neither.',
    ],
    [
      { HETU_LLM_BASE_URL: 'localhost:11434', HETU_LLM_MODEL: 'm' },
      'HETU_LLM_BASE_URL must be an http(s) URL such as http://localhost:11434/v1.',
    ],
    [
      { HETU_LLM_BASE_URL: 'ftp://x/v1', HETU_LLM_MODEL: 'm' },
      'HETU_LLM_BASE_URL must be an http(s) URL such as http://localhost:11434/v1.',
    ],
    [
      { HETU_LLM_BASE_URL: 'http://x/v1', HETU_LLM_MODEL: 'm', HETU_LLM_MAX_TOKENS: '8192' },
      'HETU_LLM_MAX_TOKENS must be a whole number from 1 to 4096, got "8192".',
    ],
    [
      { HETU_LLM_BASE_URL: 'http://x/v1', HETU_LLM_MODEL: 'm', HETU_LLM_MAX_TOKENS: '1e3' },
      'HETU_LLM_MAX_TOKENS must be a whole number from 1 to 4096, got "1e3".',
    ],
    [
      { HETU_LLM_BASE_URL: 'http://x/v1', HETU_LLM_MODEL: 'm', HETU_LLM_DAILY_TOKENS: '0' },
      'HETU_LLM_DAILY_TOKENS must be a whole number of at least 1, got "0".',
    ],
  ] as const)('rejects %o with one sentence', (env, sentence) => {
    let thrown: unknown;
    try {
      llmConfigFromEnv(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'HETU_LLM_CONFIG_INVALID', message: sentence });
  });
});

describe('describeLlmConfig', () => {
  it('says "not configured" as a normal state', () => {
    expect(describeLlmConfig(undefined)).toEqual({
      configured: false,
      status: 'not configured (set HETU_LLM_BASE_URL and HETU_LLM_MODEL to enable the LLM second opinion)',
    });
  });

  it('masks the key and any credentials in the URL', () => {
    expect(
      describeLlmConfig({
        baseUrl: 'https://user:gateway-pass@llm.internal/v1',
        model: 'claude-x',
        apiKey: KEY,
        dailyTokens: 5,
      }),
    ).toEqual({
      configured: true,
      status: 'configured: claude-x at https://***@llm.internal/v1',
      baseUrl: 'https://***@llm.internal/v1',
      model: 'claude-x',
      apiKey: 'set',
      maxOutputTokens: 4096,
      temperature: 0.2,
      timeoutMs: 60_000,
      retries: 2,
      dailyTokens: 5,
    });
    expect(maskUrl('http://localhost:11434/v1')).toBe('http://localhost:11434/v1');
  });
});
