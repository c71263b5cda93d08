/**
 * H2Pool against real local servers (loopback): an HTTP/2 server with a stream limit, and an
 * HTTP/1.1-only HTTPS server (the pool must say h2 is unsupported, so the collector uses HTTP/1.1).
 */
import { once } from 'node:events';
import {
  createSecureServer,
  type ClientHttp2Stream,
  type Http2SecureServer,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request as httpsRequest } from 'node:https';
import { H2Pool, http1Call, type LogCall, type StreamSink } from './h2.ts';
import type { LogResponse } from './h2.ts';

// A self-signed certificate for 127.0.0.1, made for these tests only (valid until 2126).
const CERT = `-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgIUGuOmDvrQ6ZcQFEg7q6AUFpCTypgwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJaGV0dS10ZXN0MCAXDTI2MTEyNjE5MjMxMVoYDzIxMjYxMTAy
MTkyMzExWjAUMRIwEAYDVQQDDAloZXR1LXRlc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATcMT75Jypd9PVjmFbDe1El49zRRm+txkmZq9C3uLK6vbjmes0MES4N
Dv1yM//9tDQ0dN+1zSorSfMuW4BRG25lo2QwYjAdBgNVHQ4EFgQUaOZB78fis7vd
w5+EmgIfTYhiu90wHwYDVR0jBBgwFoAUaOZB78fis7vdw5+EmgIfTYhiu90wDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
IE+gzBbD1sZQ1/9HI90D76/8vrjJpXUySHPBOaUcfrZfAiEAtxnqMnc5uNFhTpCj
WBgeMNC+UV+FOQtpa0BvU0LmBQI=
-----END CERTIFICATE-----`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTgX/Oi1KBD9gqjnm
ascPVSF51xhzuaYY4+NGIQkDij6hRANCAATcMT75Jypd9PVjmFbDe1El49zRRm+t
xkmZq9C3uLK6vbjmes0MES4NDv1yM//9tDQ0dN+1zSorSfMuW4BRG25l
-----END PRIVATE KEY-----`;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

interface H2Server {
  readonly url: URL;
  /** Streams open now, their :path and authorization header. */
  readonly open: Map<ServerHttp2Stream, { path: string; authorization: string | undefined }>;
  sessions(): number;
}

/** Answers every GET with `line <path>\n` and keeps the stream open; at most `max` streams per session. */
async function h2Server(max: number): Promise<H2Server> {
  const open = new Map<ServerHttp2Stream, { path: string; authorization: string | undefined }>();
  let sessions = 0;
  const server: Http2SecureServer = createSecureServer({
    cert: CERT,
    key: KEY,
    settings: { maxConcurrentStreams: max },
  });
  server.on('session', () => sessions++);
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    const auth = headers['authorization'];
    open.set(stream, { path, authorization: typeof auth === 'string' ? auth : undefined });
    stream.on('close', () => open.delete(stream));
    stream.respond({ ':status': 200 });
    stream.write(`line ${path}\n`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of open.keys()) s.close();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: new URL(`https://127.0.0.1:${port}`), open, sessions: () => sessions };
}

/** Resolves with the response and the first chunk of a request. */
function firstChunk(req: ReturnType<H2Pool['request']>): Promise<{ res: LogResponse; text: string }> {
  return new Promise((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      res.on('data', (c: Buffer) => resolve({ res, text: c.toString() }));
      res.on('error', reject);
    });
    req.end();
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

describe('H2Pool', () => {
  it('carries many long-lived streams on few sessions, up to the server limit each, with the headers', async () => {
    const srv = await h2Server(3);
    const pool = new H2Pool(srv.url, 100);
    closers.push(async () => pool.close());
    const opts = {
      ca: CERT,
      headers: { Authorization: 'Bearer t0k3n', accept: '*/*', Connection: 'keep-alive' },
    };
    // the first stream learns the server's limit (3) from its SETTINGS
    const first = await firstChunk(pool.request('/log?n=0', opts));
    expect(first).toMatchObject({ text: 'line /log?n=0\n', res: { statusCode: 200 } });
    const rest = await Promise.all(
      Array.from({ length: 6 }, (_, i) => firstChunk(pool.request(`/log?n=${i + 1}`, opts))),
    );
    expect(rest.map((r) => r.text)).toEqual(Array.from({ length: 6 }, (_, i) => `line /log?n=${i + 1}\n`));
    expect(srv.open.size).toBe(7);
    expect(pool.sessionCount).toBe(3);
    expect(srv.sessions()).toBe(3);
    expect(new Set([...srv.open.values()].map((v) => v.authorization))).toEqual(new Set(['Bearer t0k3n']));
    expect(pool.unsupported).toBe(false);
  });

  it('destroy() ends one stream (the server sees it closed), and its place is reused', async () => {
    const srv = await h2Server(2);
    const pool = new H2Pool(srv.url, 2);
    closers.push(async () => pool.close());
    const a = pool.request('/a', { ca: CERT });
    const b = pool.request('/b', { ca: CERT });
    const [ra] = await Promise.all([firstChunk(a), firstChunk(b)]);
    const seen: string[] = [];
    ra.res.on('error', (e) => seen.push(e.message));
    const closed = new Promise<void>((resolve) => ra.res.on('close', () => resolve()));
    a.destroy(new Error('log connection cut'));
    await closed;
    expect(seen).toEqual(['log connection cut']);
    expect(ra.res.complete).toBe(false);
    await until(() => srv.open.size === 1);
    expect([...srv.open.values()].map((v) => v.path)).toEqual(['/b']);
    await firstChunk(pool.request('/c', { ca: CERT }));
    expect(pool.sessionCount).toBe(1);
    expect(srv.sessions()).toBe(1);
  });

  it('a response ends with "end" and then "close" when the server ends the stream; complete is true', async () => {
    const srv = await h2Server(10);
    const pool = new H2Pool(srv.url);
    closers.push(async () => pool.close());
    const { res } = await firstChunk(pool.request('/ends', { ca: CERT }));
    const events: string[] = [];
    res.on('end', () => events.push(`end ${res.complete}`));
    const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
    for (const s of srv.open.keys()) s.end('last\n');
    await closed;
    expect(events).toEqual(['end true']);
  });

  it('says h2 is unsupported when the server speaks HTTP/1.1 only, failing that request', async () => {
    const server: Server = createHttpsServer({ cert: CERT, key: KEY }, (_req, res) => res.end('x'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const pool = new H2Pool(new URL(`https://127.0.0.1:${port}`));
    closers.push(async () => pool.close());
    const req = pool.request('/log', { ca: CERT });
    const err = await new Promise<Error>((resolve) => {
      req.on('error', resolve);
      req.on('response', () => resolve(new Error('answered')));
      req.end();
    });
    expect(err.message).not.toBe('answered');
    await until(() => pool.unsupported);
  });

  it("open() sends a stream's events to its sink: the answer, then the body, then the close", async () => {
    const srv = await h2Server(10);
    const pool = new H2Pool(srv.url);
    closers.push(async () => pool.close());
    const a = recordingSink();
    pool.open('/a', { ca: CERT, headers: { authorization: 'Bearer t0k3n' } }, a.sink);
    await until(() => a.events.length >= 2);
    expect(a.events).toEqual(['response 200', 'data line /a\n']);
    expect([...srv.open.values()]).toEqual([{ path: '/a', authorization: 'Bearer t0k3n' }]);
    for (const s of srv.open.keys()) s.end('last\n');
    await a.closed;
    expect(a.events).toEqual(['response 200', 'data line /a\n', 'data last\n', 'close complete']);
  });

  it('open() gives the sink body pushed before the answer only after onResponse (none is lost)', async () => {
    // Node emits 'response' a tick after it read the HEADERS frame but pushes DATA read with it at
    // once: when a session that had paused reading resumes (the collector's queue pausing and
    // resuming its streams), a stream's answer and first lines come that way. A sink fed data
    // before its answer dropped those lines (bench/collect.bench.ts lost lines of 21 of 2 000
    // containers). Here the server never answers; the test plays that order on the stream.
    const server = createSecureServer({ cert: CERT, key: KEY });
    const streams: ServerHttp2Stream[] = [];
    server.on('stream', (stream) => streams.push(stream));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of streams) s.close();
          server.close(() => resolve());
        }),
    );
    const pool = new H2Pool(new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`));
    closers.push(async () => pool.close());
    const a = recordingSink();
    const call = pool.open('/a', { ca: CERT }, a.sink) as LogCall & { stream: ClientHttp2Stream };
    await until(() => streams.length === 1);
    call.stream.push(Buffer.from('line one\n'));
    await new Promise((r) => setImmediate(r));
    call.stream.emit('response', { ':status': 200 }, 0);
    await until(() => a.events.length >= 2);
    expect(a.events).toEqual(['response 200', 'data line one\n']);
  });

  it('open(): destroy(err) resets the stream and reports err, not complete', async () => {
    const { srv, a, call } = await answeredCall();
    call.destroy(new Error('log connection cut'));
    await a.closed;
    expect(a.events.at(-1)).toBe('close incomplete log connection cut');
    await until(() => srv.open.size === 0);
  });

  it('a paused call holds what arrives in one copy of its own, gives it on resume, and pauses its stream past 16 KiB', async () => {
    const srv = await h2Server(10);
    const pool = new H2Pool(srv.url);
    closers.push(async () => pool.close());
    const got: Buffer[] = [];
    const a = recordingSink();
    const sink: StreamSink = { ...a.sink, onData: (c) => void got.push(Buffer.from(c)) };
    const raw: Buffer[] = [];
    const call = pool.open(
      '/a',
      { ca: CERT },
      {
        ...sink,
        onData: (c) => {
          raw.push(c);
          sink.onData(c);
        },
      },
    ) as LogCall & { stream: ClientHttp2Stream };
    await until(() => got.length === 1);
    const [server] = [...srv.open.keys()];
    call.pause();
    server!.write('two\n');
    server!.write('three\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.length).toBe(1); // held, not given
    expect(call.stream.isPaused()).toBe(false); // a few bytes: the stream reads on
    call.resume();
    expect(got.map(String)).toEqual(['line /a\n', 'two\nthree\n']);
    // The held body is an exact-size buffer of its own, not a view of a shared read buffer.
    const held = raw[1]!;
    expect([held.byteOffset, held.buffer.byteLength]).toEqual([0, held.length]);
    // Past 16 KiB held, the HTTP/2 stream itself pauses; on resume all of it comes, in order.
    call.pause();
    const big = 'x'.repeat(1023) + '\n';
    for (let i = 0; i < 20; i++) server!.write(big);
    await until(() => call.stream.isPaused());
    call.resume();
    server!.end('end\n');
    await a.closed;
    expect(Buffer.concat(got).toString()).toBe('line /a\ntwo\nthree\n' + big.repeat(20) + 'end\n');
  });

  it('announces a 32 KiB per-stream window, so a paused stream can be sent little', async () => {
    const { srv } = await answeredCall();
    const [stream] = [...srv.open.keys()];
    expect(stream!.session!.remoteSettings.initialWindowSize).toBe(32 * 1024);
  });

  it('a paused call that closes gives what it held before the close', async () => {
    const { srv, a, call } = await answeredCall();
    call.pause();
    for (const s of srv.open.keys()) s.end('last\n');
    await a.closed;
    expect(a.events).toEqual(['response 200', 'data line /a\n', 'data last\n', 'close complete']);
  });

  it('http1Call() gives the same sink events for an HTTP/1.1 request', async () => {
    const server: Server = createHttpsServer({ cert: CERT, key: KEY }, (_req, res) => {
      res.writeHead(200);
      res.write('one\n');
      setTimeout(() => res.end('two\n'), 20);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const a = recordingSink();
    http1Call(httpsRequest(`https://127.0.0.1:${port}/log`, { ca: CERT }), a.sink);
    await a.closed;
    expect(a.events).toEqual(['response 200', 'data one\n', 'data two\n', 'close complete']);
  });
});

/** A call of `/a` on a fresh server and pool, answered and with its first line in. */
async function answeredCall(): Promise<{
  srv: H2Server;
  a: ReturnType<typeof recordingSink>;
  call: LogCall;
}> {
  const srv = await h2Server(10);
  const pool = new H2Pool(srv.url);
  closers.push(async () => pool.close());
  const a = recordingSink();
  const call: LogCall = pool.open('/a', { ca: CERT }, a.sink);
  await until(() => a.events.length >= 2);
  return { srv, a, call };
}

/** A sink that records its events as text. */
function recordingSink(): { sink: StreamSink; events: string[]; closed: Promise<void> } {
  const events: string[] = [];
  let done = (): void => undefined;
  const closed = new Promise<void>((resolve) => (done = resolve));
  return {
    events,
    closed,
    sink: {
      onResponse: (status) => events.push(`response ${status}`),
      onData: (chunk) => events.push(`data ${chunk.toString()}`),
      onClose: (complete, err) => {
        events.push(`close ${complete ? 'complete' : 'incomplete'}${err === null ? '' : ` ${err.message}`}`);
        done();
      },
    },
  };
}
