/**
 * A TCP relay in front of a server (TLS passes through untouched), for fault tests of the
 * Kubernetes collector against the real API server (`kube-churn.int.test.ts`,
 * `cli/src/collect-kube-faults.int.test.ts`):
 *
 * - `reset()` destroys every open connection (an RST to the client);
 * - `refuse()` does that and resets every new connection at once, until `accept()`;
 * - `stall()` keeps every connection open, and keeps forwarding the client's bytes, but stops
 *   forwarding the server's bytes (they wait in the relay and in TCP's buffers; the server keeps
 *   writing until TCP back-pressure stops it): the client sees a silent connection, as behind a
 *   proxy or NAT that stopped passing traffic without closing anything. Connections opened while
 *   stalled are stalled too. `flow()` forwards again, what waited first.
 */
import net from 'node:net';

export interface TcpRelay {
  readonly port: number;
  /** Connections open through the relay. */
  open(): number;
  /**
   * Open connections whose client sent bytes after the last bytes the server sent on them: a
   * request waiting for the first bytes of its answer (or a TLS handshake in progress).
   */
  awaitingServer(): number;
  reset(): number;
  refuse(): number;
  accept(): void;
  /** Stops forwarding the server's bytes (see the header); returns the connections stalled. */
  stall(): number;
  /** Forwards the server's bytes again. */
  flow(): void;
  readonly stalled: boolean;
  close(): Promise<void>;
}

interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Sequence numbers of the last bytes each side sent (0: none yet). */
  lastFromClient: number;
  lastFromServer: number;
}

export async function relay(target: URL): Promise<TcpRelay> {
  const pairs = new Set<Pair>();
  let refusing = false;
  let stalled = false;
  let seq = 0;
  const server = net.createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    const pair: Pair = { client, upstream, lastFromClient: 0, lastFromServer: 0 };
    pairs.add(pair);
    // An orderly close travels through the pipes (the API server closing after a response must
    // not cut its last bytes); an error on one side resets the other; a closed client ends it all.
    upstream.on('error', () => {
      pairs.delete(pair);
      if (!client.destroyed) client.resetAndDestroy();
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    // 'data' listeners added after pipe(): they see each chunk as it is forwarded
    client.pipe(upstream);
    client.on('data', () => (pair.lastFromClient = ++seq));
    if (stalled) upstream.pause();
    else upstream.pipe(client);
    upstream.on('data', () => (pair.lastFromServer = ++seq));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cutAll = (): number => {
    const n = pairs.size;
    for (const p of [...pairs]) {
      pairs.delete(p);
      p.client.resetAndDestroy();
      p.upstream.destroy();
    }
    return n;
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    open: () => pairs.size,
    awaitingServer: () => [...pairs].filter((p) => p.lastFromClient > p.lastFromServer).length,
    reset: cutAll,
    refuse() {
      refusing = true;
      return cutAll();
    },
    accept() {
      refusing = false;
    },
    stall() {
      stalled = true;
      for (const p of pairs) {
        p.upstream.unpipe(p.client);
        p.upstream.pause();
      }
      return pairs.size;
    },
    flow() {
      if (!stalled) return;
      stalled = false;
      // pipe() resumes the stream: what was read and held is written first
      for (const p of pairs) p.upstream.pipe(p.client);
    },
    get stalled() {
      return stalled;
    },
    close: () =>
      new Promise<void>((r) => {
        cutAll();
        server.close(() => r());
      }),
  };
}
