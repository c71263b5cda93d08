/**
 * The pipeline metrics of a `hetu start` process (docs/metrics.md): the consumer groups of the
 * stages, the LLM requests stage and the LLM worker (when configured) for the lag gauge, and the
 * projections for dead-letter and LLM-token counts.
 */
import {
  createPipelineMetrics,
  type ConsumerGroupTopics,
  type PipelineMetrics,
  type Projections,
} from '@hetu/projections';
import { LLM_REQUESTS_TOPIC } from '@hetu/processors/llm';
import { LLM_WORKER_GROUP } from '@hetu/producers/llm';
import type { Backend } from './backend.ts';
import { llmRequestsStage } from './llm.ts';
import { pipelineStages } from './stages.ts';

/** The consumer groups of the stages (and of the LLM worker when it runs), with their inputs. */
export function stageGroups(backend: Backend, llmWorker: boolean): ConsumerGroupTopics[] {
  const [, requests] = llmRequestsStage(backend);
  return [
    ...[...pipelineStages(backend).map(([, p]) => p), requests].map((p) => ({
      group: p.name,
      topics: p.inputs,
    })),
    ...(llmWorker ? [{ group: LLM_WORKER_GROUP, topics: [LLM_REQUESTS_TOPIC] }] : []),
  ];
}

/**
 * Pipeline metrics over a backend; `projections` is asked at each scrape (they start later). The
 * lag gauge covers the stages' groups; the projections report theirs as
 * `hetu_projection_lag_records` (their group names carry a random id per store).
 */
export function startMetrics(
  backend: Backend,
  llmWorker: boolean,
  projections: () => Projections | undefined,
  frontiers?: () => ReadonlyMap<string, number>,
): PipelineMetrics {
  const stages = stageGroups(backend, llmWorker);
  return createPipelineMetrics({
    log: backend.log,
    groups: () => stages,
    projections,
    ...(frontiers ? { frontiers } : {}),
  });
}
