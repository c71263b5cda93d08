// For the push and latency benches: every stage, the projections and the GraphQL API live in this
// process on a backend (`hetu start`'s shape), and a graphql-ws subscriber to `errorGroupChanged`
// of one namespace that tells when a group whose title holds a token is first pushed.
import { createClient } from 'graphql-ws';
import { Projections, buildApi } from '@hetu/projections';
import type { Backend } from '../cli/src/backend.ts';
import { startPipeline } from '../cli/src/pipeline.ts';
import { RawFrontier, startLiveClock } from '../cli/src/gates.ts';
import { processorInfos, ruleHints } from '../cli/src/commands/start.ts';

/** The GraphQL API over `projections` as `hetu start` builds it (without Node's default metrics), not listening yet. */
export function benchApi(backend: Backend, projections: Projections): ReturnType<typeof buildApi> {
  return buildApi({
    projections,
    log: backend.log,
    serde: backend.serde,
    processors: processorInfos(backend),
    ruleHints: ruleHints(),
    defaultMetrics: false,
  });
}

export interface LivePipeline {
  /** Resolves with `performance.now()` when a new group whose title holds `token` is pushed. */
  arrival(token: string): Promise<number>;
  /** Stops waiting for `token`. */
  forget(token: string): void;
  /** Ends the subscription, the API, the projections and the stages. */
  close(): Promise<void>;
}

export async function startLivePipeline(
  backend: Backend,
  namespace: string,
  print: (line: string) => void,
  options: { gated?: boolean } = {},
): Promise<LivePipeline> {
  // Gated as `hetu start` gates stages watching a cluster: raw input complete 1 s behind the clock.
  const rawFrontier = options.gated ? new RawFrontier() : undefined;
  const pipeline = await startPipeline(backend, {}, rawFrontier ? { rawFrontier } : {});
  const stopClock = rawFrontier ? startLiveClock(rawFrontier) : () => undefined;
  const projections = await Projections.start({ log: backend.log, serde: backend.serde });
  const api = await benchApi(backend, projections);
  const base = await api.app.listen({ host: '127.0.0.1', port: 0 });
  const client = createClient({
    url: `${base.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
  const waiting = new Map<string, (at: number) => void>();
  const seen = new Set<string>();
  const stop = client.subscribe(
    {
      query: `subscription($ns: String) { errorGroupChanged(namespace: $ns) { id deleted group { title } } }`,
      variables: { ns: namespace },
    },
    {
      next: (v) => {
        const at = performance.now();
        const e = (v.data as { errorGroupChanged: { id: string; group: { title: string } | null } })
          .errorGroupChanged;
        if (seen.has(e.id)) return;
        seen.add(e.id);
        for (const [token, done] of waiting)
          if (e.group?.title.includes(token)) {
            waiting.delete(token);
            done(at);
          }
      },
      error: (err) => print(`subscription error: ${String(err)}`),
      complete: () => undefined,
    },
  );
  return {
    arrival: (token) => new Promise<number>((resolve) => waiting.set(token, resolve)),
    forget: (token) => void waiting.delete(token),
    close: async () => {
      stopClock();
      stop();
      await client.dispose();
      await api.close();
      await projections.close();
      await pipeline.close();
    },
  };
}
