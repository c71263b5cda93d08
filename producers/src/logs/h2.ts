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
import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { RequestOptions } from 'node:https';

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

class H2Response extends EventEmitter implements LogResponse {
  readonly statusCode: number | undefined;
  complete = false;
  private readonly stream: ClientHttp2Stream;

  constructor(stream: ClientHttp2Stream, status: number | undefined) {
    super();
    this.stream = stream;
    this.statusCode = status;
    stream.on('data', (chunk: Buffer) => this.emit('data', chunk));
    stream.on('end', () => {
      this.sawEnd = true;
    });
  }

  private sawEnd = false;

  /**
   * The stream closed: 'end' (complete) only when the server ended it (END_STREAM, no reset);
   * a reset, even CANCEL, is a connection that closed mid-stream. Then 'close'.
   */
  closed(rstCode: number | undefined): void {
    if (this.sawEnd && (rstCode === undefined || rstCode === constants.NGHTTP2_NO_ERROR)) {
      this.complete = true;
      this.emit('end');
    }
    this.emit('close');
  }

  pause(): this {
    this.stream.pause();
    return this;
  }

  resume(): this {
    this.stream.resume();
    return this;
  }
}

class H2Request extends EventEmitter implements LogRequest {
  private readonly stream: ClientHttp2Stream;
  private res: H2Response | null = null;

  constructor(stream: ClientHttp2Stream) {
    super();
    this.stream = stream;
    stream.on('response', (headers) => {
      const status = headers[':status'];
      this.res = new H2Response(stream, typeof status === 'number' ? status : Number(status));
      this.emit('response', this.res);
    });
    stream.on('error', (err: Error) => {
      if (this.res !== null) this.res.emit('error', err);
      else this.emit('error', err);
    });
    stream.on('close', () => {
      if (this.res !== null) this.res.closed(stream.rstCode);
      else
        this.emit(
          'error',
          new Error(`the HTTP/2 stream closed before an answer (code ${stream.rstCode ?? 'none'})`),
        );
    });
  }

  end(): this {
    return this;
  }

  /** Cancels the stream (RST_STREAM CANCEL); with `err`, reports it as the stream's error first. */
  destroy(err?: Error): this {
    if (this.stream.destroyed || this.stream.closed) return this;
    if (err !== undefined) {
      if (this.res !== null) this.res.emit('error', err);
      else this.emit('error', err);
    }
    this.stream.close(constants.NGHTTP2_CANCEL);
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

  /** `maxStreams`: streams per session until the server's SETTINGS say (kube-apiserver: 100). */
  constructor(origin: URL, maxStreams = 100) {
    this.origin = origin.origin;
    this.defaultMaxStreams = maxStreams;
  }

  /** Open sessions (for status and tests). */
  get sessionCount(): number {
    return this.sessions.length;
  }

  /**
   * A GET of `path` with the headers and TLS material of `o` (from the client library's
   * `applyToHTTPSOptions`), on a session with room for one more stream.
   */
  request(path: string, o: RequestOptions): LogRequest {
    const tlsKey = tlsKeyOf(o);
    const s = this.sessionFor(tlsKey, o);
    const headers: OutgoingHttpHeaders = { ':method': 'GET', ':path': path };
    for (const [k, v] of Object.entries(o.headers ?? {})) {
      const name = k.toLowerCase();
      if (v !== undefined && !HOP_BY_HOP.has(name)) headers[name] = v;
    }
    if (typeof o.auth === 'string' && headers['authorization'] === undefined)
      headers['authorization'] = `Basic ${Buffer.from(o.auth).toString('base64')}`;
    const stream = s.session.request(headers, { endStream: true });
    s.active++;
    stream.once('close', () => {
      s.active--;
    });
    return new H2Request(stream);
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
    const session = connect(this.origin, {
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      ...(o.cert !== undefined ? { cert: o.cert } : {}),
      ...(o.key !== undefined ? { key: o.key } : {}),
      ...(o.pfx !== undefined ? { pfx: o.pfx } : {}),
      ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
      ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
      ...(o.servername !== undefined ? { servername: o.servername } : {}),
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
