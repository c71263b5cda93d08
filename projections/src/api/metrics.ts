/**
 * Prometheus metrics of the API process on `/metrics` (prom-client, one registry per app, never
 * the global one): HTTP requests, GraphQL operations, subscriptions, and projection lag.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Projections } from '../projections.ts';

export interface ApiMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status_code'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly operations: Counter<'operation' | 'outcome'>;
  readonly operationDuration: Histogram<'operation'>;
  readonly subscriptions: Gauge;
  readonly commands: Counter<'type'>;
}

export function createMetrics(projections: Projections, opts: { defaultMetrics?: boolean } = {}): ApiMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'hetu_api_' });
  const httpRequests = new Counter({
    name: 'hetu_api_http_requests_total',
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'hetu_api_http_request_duration_seconds',
    help: 'Time to answer an HTTP request.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const operations = new Counter({
    name: 'hetu_api_graphql_operations_total',
    help: 'GraphQL operations, by type (query, mutation, subscription) and outcome (ok, error, rejected).',
    labelNames: ['operation', 'outcome'] as const,
    registers: [registry],
  });
  const operationDuration = new Histogram({
    name: 'hetu_api_graphql_operation_duration_seconds',
    help: 'Time to execute a GraphQL query or mutation (after validation).',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'hetu_api_subscriptions_active',
    help: 'Subscriptions running over WebSocket.',
    registers: [registry],
  });
  const commands = new Counter({
    name: 'hetu_api_commands_total',
    help: 'Commands written to hetu.commands by mutations, by type.',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const lastEvent: Gauge<'projection'> = new Gauge({
    name: 'hetu_projection_last_event_time_seconds',
    help: 'Newest event time a projection applied (seconds since the epoch).',
    labelNames: ['projection'] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  const applied: Gauge<'projection'> = new Gauge({
    name: 'hetu_projection_records_applied',
    help: 'Records a projection applied since its store was created.',
    labelNames: ['projection'] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  // Projection figures are read when scraped (one freshness call for the three gauges).
  let pending: Promise<void> | null = null;
  const refresh = () => {
    pending ??= projections
      .freshness()
      .then((f) => {
        for (const p of f.projections) {
          lag.set({ projection: p.name }, Number(p.lag));
          applied.set({ projection: p.name }, p.recordsApplied);
          if (p.lastEventTime !== null) lastEvent.set({ projection: p.name }, p.lastEventTime / 1000);
        }
      })
      .catch(() => undefined)
      .finally(() => {
        pending = null;
      });
    return pending;
  };
  const lag: Gauge<'projection'> = new Gauge({
    name: 'hetu_projection_lag_records',
    help: "Offsets between a projection's committed positions and the end of its topics.",
    labelNames: ['projection'] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  return { registry, httpRequests, httpDuration, operations, operationDuration, subscriptions, commands };
}
