/**
 * A local OpenAI-compatible HTTP server for tests and demos (DESIGN §6: an external LLM provider
 * is the one service we stand in for; everything else runs for real). It listens on a free port of
 * 127.0.0.1, serves `POST /v1/chat/completions` and `GET /v1/models`, records every request (method,
 * path, all headers, body), and answers chat completions as a script says: a status, a raw body, or
 * a message content with usage; after a delay, or never (`hang`: the request stays open until the
 * client gives up or `close()` ends it).
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLlmRequest {
  /** Position among all recorded requests, from 0. */
  readonly index: number;
  readonly method: string;
  /** Path and query, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Every header as received (lower-case names), Authorization included. */
  readonly headers: IncomingHttpHeaders;
  /** The body as text. */
  readonly rawBody: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  readonly body: unknown;
}

export interface FakeLlmUsage {
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
  readonly total_tokens?: number;
}

export interface FakeLlmReply {
  /** HTTP status (default 200). */
  readonly status?: number;
  /** The whole response body: a string is sent as is (malformed JSON is possible), anything else as JSON. */
  readonly body?: unknown;
  /** Without `body`: the assistant message of a chat completion built around it (default `{}`). */
  readonly content?: string;
  /** Without `body`: the completion's usage; null omits it; default: characters ÷ 4 of prompt and content. */
  readonly usage?: FakeLlmUsage | null;
  /** Extra response headers (e.g. `retry-after`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Wait this long before answering (demos; tests should not need it). */
  readonly delayMs?: number;
  /** Never answer: the request stays open until the client aborts or `close()` ends it. */
  readonly hang?: boolean;
}

/**
 * Decides the reply to the `index`-th chat-completion request (from 0; `GET /v1/models` and unknown
 * paths do not count).
 */
export type FakeLlmScript = (request: FakeLlmRequest, index: number) => FakeLlmReply | Promise<FakeLlmReply>;

export interface FakeLlmServerOptions {
  readonly script?: FakeLlmScript;
  /** Model ids `GET /v1/models` lists (default `['fake-model']`). */
  readonly models?: readonly string[];
}

export interface FakeLlmServer {
  /** `http://127.0.0.1:<port>/v1`: the base URL for a client. */
  readonly baseUrl: string;
  readonly port: number;
  /** Every request received, in order of arrival (recorded once its body has been read). */
  readonly requests: readonly FakeLlmRequest[];
  /** The chat-completion requests only. */
  chatRequests(): FakeLlmRequest[];
  /** Resolves once at least `count` requests are recorded; rejects after `timeoutMs` (default 5 000). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Ends hanging and delayed requests, and stops listening. Idempotent. */
  close(): Promise<void>;
}

const CHAT_PATH = '/v1/chat/completions';
const MODELS_PATH = '/v1/models';

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

function promptChars(body: unknown): number {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return 0;
  let n = 0;
  for (const m of messages) {
    const content = (m as { content?: unknown } | null)?.content;
    if (typeof content === 'string') n += content.length;
  }
  return n;
}

function completionBody(request: FakeLlmRequest, reply: FakeLlmReply, index: number): unknown {
  const content = reply.content ?? '{}';
  const model = (request.body as { model?: unknown } | null)?.model;
  const usage =
    reply.usage === null
      ? undefined
      : (reply.usage ?? {
          prompt_tokens: Math.ceil(promptChars(request.body) / 4),
          completion_tokens: Math.ceil(content.length / 4),
        });
  const withTotal =
    usage === undefined
      ? undefined
      : { total_tokens: (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0), ...usage };
  return {
    id: `chatcmpl-fake-${index}`,
    object: 'chat.completion',
    created: 1_795_680_000,
    model: typeof model === 'string' ? model : 'fake-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
    ...(withTotal === undefined ? {} : { usage: withTotal }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the server on a free port of 127.0.0.1. */
export async function startFakeLlmServer(options: FakeLlmServerOptions = {}): Promise<FakeLlmServer> {
  const script: FakeLlmScript = options.script ?? (() => ({}));
  const models = options.models ?? ['fake-model'];
  const requests: FakeLlmRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let chatCount = 0;
  let closed: Promise<void> | null = null;

  function record(r: FakeLlmRequest): void {
    requests.push(r);
    for (const w of [...waiters]) {
      if (requests.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    let body: unknown = null;
    try {
      body = rawBody === '' ? null : (JSON.parse(rawBody) as unknown);
    } catch {
      body = null;
    }
    const path = req.url ?? '/';
    const request: FakeLlmRequest = {
      index: requests.length,
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      rawBody,
      body,
    };
    record(request);
    const route = path.split('?')[0];
    if (req.method === 'GET' && route === MODELS_PATH) {
      sendJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'hetu-fake' })),
      });
      return;
    }
    if (req.method !== 'POST' || route !== CHAT_PATH) {
      sendJson(res, 404, {
        error: { message: `No route ${req.method ?? ''} ${route ?? ''}`, type: 'invalid_request_error' },
      });
      return;
    }
    const index = chatCount++;
    const reply = await script(request, index);
    if (reply.hang === true) return; // answered never; close() ends the socket
    const respond = (): void => {
      if (res.writableEnded || res.destroyed) return;
      const status = reply.status ?? 200;
      if (reply.body !== undefined) sendJson(res, status, reply.body, reply.headers);
      else sendJson(res, status, completionBody(request, reply, index), reply.headers);
    };
    if (reply.delayMs !== undefined && reply.delayMs > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        respond();
      }, reply.delayMs);
      timers.add(t);
    } else {
      respond();
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { error: { message: `fake server script failed: ${String(err)}` } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    chatRequests: () => requests.filter((r) => r.method === 'POST' && r.path.split('?')[0] === CHAT_PATH),
    waitForRequests(count: number, timeoutMs = 5_000): Promise<void> {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`fake LLM server: ${requests.length} of ${count} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close(): Promise<void> {
      if (closed === null) {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        closed = new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
      return closed;
    },
  };
}
