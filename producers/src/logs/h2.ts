/**
 * The log collector's follow connections over HTTP/2: many log streams share a few TLS
 * connections to the API server (at most the server's SETTINGS_MAX_CONCURRENT_STREAMS each, 100
 * on kube-apiserver), instead of one TLS connection per followed container.
 *
 * Why: a TLS connection costs the collector about 120 KiB of native memory (OpenSSL's state and
 * buffers), an HTTP/2 stream about 13 KiB; following the 10 000 containers of a 10 000-pod
 * cluster over HTTP/1.1 took well over a GiB (bench/collect.bench.ts, issue I's 256 Mi target).
 *
 * `H2Pool.request` returns objects with the few members the follow loop uses of Node's
 * `ClientRequest`/`IncomingMessage` (`LogRequest`/`LogResponse`), so HTTP/1.1 remains the same
 * code path: a server that does not offer h2 by ALPN (a proxy, plain http) is followed over
 * HTTP/1.1 (`H2Pool.unsupported`).
 */
import { EventEmitter } from 'node:events';
import type { ClientRequest, IncomingMessage } from 'node:http';
import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * Receives the events of one log stream. The follow loop passes one object per connection and the
 * pool calls its methods from listeners shared by every stream, so an open stream costs no
 * closures (at 10 000 follows every per-stream object counts: docs/benchmarks.md).
 */
export interface StreamSink {
  /** The answer's status arrived; its body follows as `onData`. */
  onResponse(status: number): void;
  /** A piece of the body: a view of the session's read buffer, valid during the call only. */
  onData(chunk: Buffer): void;
  /**
   * The stream is over (called once, last). `complete`: the server ended it (END_STREAM, no reset,
   * no error); a reset, even CANCEL, is a stream that closed mid-way. `err`: the first error the
   * stream had (the one given to `destroy`, a network or protocol error), else null; a stream that
   * closed before its answer always has one.
   */
  onClose(complete: boolean, err: Error | null): void;
}

/** An open log stream (HTTP/2 stream or HTTP/1.1 request) whose events go to a `StreamSink`. */
export interface LogCall {
  pause(): void;
  resume(): void;
  /** Ends the stream (RST_STREAM CANCEL on HTTP/2); `err`, when given, is what `onClose` reports. */
  destroy(err?: Error): void;
}

/** What the follow loop uses of an HTTP response (Node's IncomingMessage has all of it). */
export interface LogResponse {
  readonly statusCode?: number | undefined;
  readonly complete: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'end' | 'close', listener: () => void): this;
  pause(): this;
  resume(): this;
}

/** What the follow loop uses of an HTTP request (Node's ClientRequest has all of it). */
export interface LogRequest {
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'response', listener: (res: LogResponse) => void): this;
  end(): this;
  destroy(err?: Error): this;
}

/** HTTP/1.1 connection-specific headers, not allowed in HTTP/2. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/**
 * The ALPN list `h2` (length-prefixed), as a DataView: TLS copies a DataView into a buffer of its
 * own, where an array of names (what `http2.connect` passes) becomes a 3-byte slice of Node's
 * shared 64 KiB Buffer pool — kept by the TLS socket's options for the session's life, so each
 * session pinned a 64 KiB pool slab (the "64 KiB buffers" of the collector's heap snapshots).
 */
const ALPN_H2 = new DataView(new Uint8Array([2, 0x68, 0x32]).buffer);

/** The stream → its call (a symbol property: the shared listeners find their call through `this`). */
const CALL = Symbol('hetu.h2call');
type CalledStream = ClientHttp2Stream & { [CALL]?: H2Call };

/**
 * Most body a paused call holds (copied) before it pauses its HTTP/2 stream. Node's paused stream
 * keeps each DATA chunk as a view of the session's read buffer, which pins that whole buffer:
 * thousands of streams paused at once with a few lines each kept tens of MiB of read buffers and
 * grew malloc's heap for good (docs/benchmarks.md, collect-logs). A call copies what arrives while
 * paused into one exact-size buffer instead; past this many bytes the stream itself pauses (the
 * session's `initialWindowSize`, `STREAM_WINDOW`, then bounds what the server may still send).
 */
const HOLD_MAX = 16 * 1024;

/** The per-stream HTTP/2 flow-control window the pool's sessions announce. */
const STREAM_WINDOW = 32 * 1024;

/** One HTTP/2 stream of the pool and its sink. */
class H2Call implements LogCall {
  readonly stream: ClientHttp2Stream;
  readonly sink: StreamSink;
  readonly session: Session;
  responded = false;
  sawEnd = false;
  err: Error | null = null;
  /** Paused by the sink: body is held in `held`, not given to the sink. */
  paused = false;
  /** Body that arrived while paused (an unpooled copy), given to the sink on resume or close. */
  held: Buffer | null = null;

  constructor(stream: ClientHttp2Stream, sink: StreamSink, session: Session) {
    this.stream = stream;
    this.sink = sink;
    this.session = session;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = null;
    // the sink may pause again while it takes the held body: the stream then stays as it is
    if (held !== null) this.sink.onData(held);
    if (!this.paused && this.stream.isPaused()) this.stream.resume();
  }

  /** Body while paused: appended to `held`; the stream pauses once `held` passes HOLD_MAX. */
  hold(chunk: Buffer): void {
    const before = this.held;
    const size = (before?.length ?? 0) + chunk.length;
    const next = Buffer.allocUnsafeSlow(size);
    if (before !== null) before.copy(next, 0);
    chunk.copy(next, size - chunk.length);
    this.held = next;
    if (size >= HOLD_MAX) this.stream.pause();
  }

  /** Gives the sink what is held (the stream closes: nothing may be left behind). */
  flush(): void {
    const held = this.held;
    this.held = null;
    if (held !== null) this.sink.onData(held);
  }

  destroy(err?: Error): void {
    if (this.stream.destroyed || this.stream.closed) return;
    if (err !== undefined) this.err ??= err;
    this.stream.close(constants.NGHTTP2_CANCEL);
  }
}

// The listeners of every stream of every pool (`this` is the stream).
function callOf(stream: ClientHttp2Stream): H2Call {
  return (stream as CalledStream)[CALL]!;
}
function onStreamResponse(this: ClientHttp2Stream, headers: IncomingHttpHeaders): void {
  const c = callOf(this);
  c.responded = true;
  const status = headers[':status'];
  // Only now: Node emits 'response' a tick after the HEADERS frame, and DATA read with it is
  // pushed at once, so a 'data' listener added before would see body before the answer. Until
  // this listener is added the stream holds such data (it is not flowing).
  this.on('data', onStreamData);
  c.sink.onResponse(typeof status === 'number' ? status : Number(status));
}
function onStreamData(this: ClientHttp2Stream, chunk: Buffer): void {
  const c = callOf(this);
  if (c.paused || c.held !== null) c.hold(chunk);
  else c.sink.onData(chunk);
}
function onStreamEnd(this: ClientHttp2Stream): void {
  callOf(this).sawEnd = true;
}
function onStreamError(this: ClientHttp2Stream, err: Error): void {
  const c = callOf(this);
  c.err ??= err;
}
function onStreamClose(this: ClientHttp2Stream): void {
  const c = callOf(this);
  (this as CalledStream)[CALL] = undefined;
  c.session.active--;
  const code = this.rstCode;
  if (!c.responded) c.err ??= new Error(`the HTTP/2 stream closed before an answer (code ${code ?? 'none'})`);
  c.flush();
  const complete = c.err === null && c.sawEnd && (code === undefined || code === constants.NGHTTP2_NO_ERROR);
  c.sink.onClose(complete, c.err);
}

/**
 * A follow over HTTP/1.1 (a server without h2): `req` (not yet ended) with its events sent to
 * `sink` as the pool does for HTTP/2 streams.
 */
export function http1Call(req: ClientRequest, sink: StreamSink): LogCall {
  let res: IncomingMessage | null = null;
  let err: Error | null = null;
  let sawEnd = false;
  let closed = false;
  const close = (complete: boolean): void => {
    if (closed) return;
    closed = true;
    sink.onClose(complete && err === null, err);
  };
  req.on('error', (e) => {
    err ??= e;
    if (res === null) close(false);
  });
  req.on('close', () => {
    if (res !== null) return;
    err ??= new Error('the connection closed before an answer');
    close(false);
  });
  req.on('response', (r: IncomingMessage) => {
    res = r;
    sink.onResponse(r.statusCode ?? 0);
    r.on('data', (chunk: Buffer) => sink.onData(chunk));
    r.on('error', (e) => {
      err ??= e;
    });
    r.on('end', () => {
      sawEnd = true;
    });
    r.on('close', () => close(sawEnd || r.complete));
  });
  req.end();
  return {
    pause: () => res?.pause(),
    resume: () => res?.resume(),
    destroy: (e?: Error) => {
      if (closed) return;
      if (e !== undefined) err ??= e;
      req.destroy(e);
    },
  };
}

/** `LogResponse` over a `LogCall`'s events (the `request` API). */
class SinkResponse extends EventEmitter implements LogResponse {
  readonly statusCode: number | undefined;
  complete = false;
  private readonly call: LogCall;

  constructor(call: LogCall, status: number) {
    super();
    this.call = call;
    this.statusCode = status;
  }

  pause(): this {
    this.call.pause();
    return this;
  }

  resume(): this {
    this.call.resume();
    return this;
  }
}

/** `LogRequest` over a `LogCall` (the `request` API): Node's request/response events. */
class SinkRequest extends EventEmitter implements LogRequest, StreamSink {
  call: LogCall | null = null;
  private res: SinkResponse | null = null;

  onResponse(status: number): void {
    this.res = new SinkResponse(this.call!, status);
    this.emit('response', this.res);
  }

  onData(chunk: Buffer): void {
    this.res?.emit('data', chunk);
  }

  onClose(complete: boolean, err: Error | null): void {
    const res = this.res;
    if (res === null) {
      this.emit('error', err ?? new Error('the stream closed before an answer'));
      return;
    }
    if (err !== null) res.emit('error', err);
    if (complete) {
      res.complete = true;
      res.emit('end');
    }
    res.emit('close');
  }

  end(): this {
    return this;
  }

  destroy(err?: Error): this {
    this.call?.destroy(err);
    return this;
  }
}

interface Session {
  readonly session: ClientHttp2Session;
  /** The TLS material it was opened with (a rotated client certificate opens new sessions). */
  readonly tlsKey: string;
  active: number;
  connected: boolean;
  /** The server's SETTINGS arrived (its stream limit is known). */
  settled: boolean;
  /** The server sent GOAWAY: no new streams on it. */
  draining: boolean;
}

type TlsOptions = Pick<
  RequestOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'
>;

function tlsKeyOf(o: TlsOptions): string {
  const text = (v: unknown): string =>
    v === undefined
      ? ''
      : Array.isArray(v)
        ? v.map(text).join(',')
        : Buffer.isBuffer(v)
          ? v.toString('base64')
          : String(v);
  return [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername].map(text).join('|');
}

/** HTTP/2 sessions to one origin, each carrying up to the server's stream limit. */
export class H2Pool {
  /** The server did not agree to h2 (ALPN): the caller uses HTTP/1.1. */
  unsupported = false;
  private readonly origin: string;
  private readonly defaultMaxStreams: number;
  private sessions: Session[] = [];
  /** The server's stream limit, once a session learned it (a new session assumes it too). */
  private learnedMax: number | null = null;
  private closed = false;
  /** `host:port` of the origin (the streams' `:authority`). */
  private readonly authority: string;
  private readonly values = new Map<string, string>();
  private lastTls: { o: TlsOptions; key: string } | null = null;

  /** `maxStreams`: streams per session until the server's SETTINGS say (kube-apiserver: 100). */
  constructor(origin: URL, maxStreams = 100) {
    this.origin = origin.origin;
    this.authority = origin.host;
    this.defaultMaxStreams = maxStreams;
  }

  /** Open sessions (for status and tests). */
  get sessionCount(): number {
    return this.sessions.length;
  }

  /**
   * A GET of `path` with the headers and TLS material of `o` (from the collector's kube access),
   * on a session with room for one more stream, as Node's request/response events.
   */
  request(path: string, o: RequestOptions): LogRequest {
    const req = new SinkRequest();
    req.call = this.open(path, o, req);
    return req;
  }

  /**
   * A GET of `path` with the headers and TLS material of `o`, on a session with room for one more
   * stream; its events go to `sink`. The stream keeps its request headers (Node keeps what it sent):
   * they are passed as a flat array, where an object became a dictionary of ~0.5 KiB per stream,
   * and equal header values (the token) are one string shared by every stream.
   */
  open(path: string, o: RequestOptions, sink: StreamSink): LogCall {
    const s = this.sessionFor(this.tlsKeyOf(o), o);
    const headers: string[] = [
      ':method',
      'GET',
      ':authority',
      this.authority,
      ':scheme',
      'https',
      ':path',
      path,
    ];
    for (const [k, v] of Object.entries(o.headers ?? {})) {
      const name = k.toLowerCase();
      if (v === undefined || HOP_BY_HOP.has(name)) continue;
      for (const one of Array.isArray(v) ? v : [v]) headers.push(name, this.shared(String(one)));
    }
    if (typeof o.auth === 'string' && !headers.includes('authorization'))
      headers.push('authorization', this.shared(`Basic ${Buffer.from(o.auth).toString('base64')}`));
    const stream = s.session.request(headers, { endStream: true }) as CalledStream;
    s.active++;
    const call = new H2Call(stream, sink, s);
    stream[CALL] = call;
    stream.on('response', onStreamResponse);
    stream.on('end', onStreamEnd);
    stream.on('error', onStreamError);
    stream.on('close', onStreamClose);
    return call;
  }

  /** One string per distinct header value (a token repeated on 10 000 streams is kept once). */
  private shared(value: string): string {
    const known = this.values.get(value);
    if (known !== undefined) return known;
    if (this.values.size >= 64) this.values.clear();
    this.values.set(value, value);
    return value;
  }

  /** The TLS material's identity; the same objects as the last request reuse its key. */
  private tlsKeyOf(o: TlsOptions): string {
    const last = this.lastTls;
    if (
      last !== null &&
      last.o.ca === o.ca &&
      last.o.cert === o.cert &&
      last.o.key === o.key &&
      last.o.pfx === o.pfx &&
      last.o.passphrase === o.passphrase &&
      last.o.rejectUnauthorized === o.rejectUnauthorized &&
      last.o.servername === o.servername
    )
      return last.key;
    const key = tlsKeyOf(o);
    this.lastTls = {
      o: {
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        pfx: o.pfx,
        passphrase: o.passphrase,
        rejectUnauthorized: o.rejectUnauthorized,
        servername: o.servername,
      },
      key,
    };
    return key;
  }

  /** Destroys every session (their streams end with an error). */
  close(): void {
    this.closed = true;
    for (const s of this.sessions) s.session.destroy();
    this.sessions = [];
  }

  private sessionFor(tlsKey: string, o: RequestOptions): Session {
    for (const s of this.sessions) {
      if (s.tlsKey !== tlsKey || s.draining || s.session.closed || s.session.destroyed) continue;
      const max = s.settled
        ? Math.min(s.session.remoteSettings.maxConcurrentStreams ?? this.defaultMaxStreams, 1000)
        : (this.learnedMax ?? this.defaultMaxStreams);
      if (s.active < max) return s;
    }
    // sessions opened with older TLS material close once their streams ended
    for (const s of this.sessions) if (s.tlsKey !== tlsKey && !s.session.closed) s.session.close();
    const url = new URL(this.origin);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const servername = o.servername ?? (isIP(host) === 0 ? host : undefined);
    const session = connect(this.origin, {
      // a paused stream may be sent at most this much more (Node's default is 65 535)
      settings: { initialWindowSize: STREAM_WINDOW },
      // the TLS socket made here only to pass ALPN as a DataView (ALPN_H2)
      createConnection: () =>
        tlsConnect({
          host,
          port: Number(url.port === '' ? 443 : url.port),
          ALPNProtocols: ALPN_H2,
          ...(servername !== undefined ? { servername } : {}),
          ...(o.ca !== undefined ? { ca: o.ca } : {}),
          ...(o.cert !== undefined ? { cert: o.cert } : {}),
          ...(o.key !== undefined ? { key: o.key } : {}),
          ...(o.pfx !== undefined ? { pfx: o.pfx } : {}),
          ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
          ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
        }),
    });
    const entry: Session = { session, tlsKey, active: 0, connected: false, settled: false, draining: false };
    session.on('goaway', () => {
      entry.draining = true;
    });
    session.on('remoteSettings', (settings) => {
      entry.settled = true;
      if (settings.maxConcurrentStreams !== undefined)
        this.learnedMax = Math.min(settings.maxConcurrentStreams, 1000);
    });
    session.on('connect', () => {
      entry.connected = true;
      if (session.alpnProtocol !== 'h2') {
        this.unsupported = true;
        session.destroy();
      }
    });
    session.on('error', (err: Error & { code?: string }) => {
      // the server refused h2 during the TLS handshake
      if (!entry.connected && err.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL')
        this.unsupported = true;
    });
    session.on('close', () => {
      this.sessions = this.sessions.filter((s) => s !== entry);
    });
    // an idle session does not keep the process alive
    session.unref();
    if (this.closed) session.destroy();
    else this.sessions.push(entry);
    return entry;
  }
}
