// Builders for the scoring tests: small, explicit inputs.
import type { PodCategory } from '../health/index.ts';
import type {
  ContainerSpec,
  EvidenceRef,
  PodTemplateSpec,
  ScopeScore,
  ScoringInput,
  ScoringNamespacedObject,
  ScoringPod,
  ScoringWorkload,
} from './types.ts';

export const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);

let nextOffset = 0;

/** Evidence with a given offset (deterministic). */
export function ev(offset: number, excerpt = `observation ${offset}`): EvidenceRef {
  return {
    topic: 'hetu.observations',
    partition: 0,
    offset: String(offset),
    ts: T0 + offset * 1000,
    excerpt,
  };
}

export function freshEv(excerpt?: string): EvidenceRef[] {
  nextOffset += 1;
  return [ev(nextOffset, excerpt)];
}

/** A container hardened so that no pod-spec rule applies to it. */
export function hardContainer(name = 'app'): ContainerSpec {
  return { name, securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false } };
}

/** A pod spec that no security rule counts. */
export function hardSpec(): PodTemplateSpec {
  return { securityContext: { runAsNonRoot: true, runAsUser: 1000 }, containers: [hardContainer()] };
}

export function workload(
  namespace: string,
  name: string,
  options: { kind?: string; replicas?: number | null; podSpec?: PodTemplateSpec } = {},
): ScoringWorkload {
  const w: ScoringWorkload = {
    kind: options.kind ?? 'Deployment',
    namespace,
    name,
    podSpec: options.podSpec ?? hardSpec(),
    evidence: freshEv(`${options.kind ?? 'Deployment'} ${namespace}/${name} ADDED`),
  };
  if (options.replicas !== null) w.replicas = options.replicas ?? 2;
  return w;
}

export function pod(
  namespace: string,
  name: string,
  workloadName: string,
  categories: PodCategory[] = [],
  options: Partial<ScoringPod> = {},
): ScoringPod {
  return {
    namespace,
    name,
    workload: { kind: 'Deployment', namespace, name: workloadName },
    categories,
    running: categories.length === 0,
    containers: [{ name: 'app', cpuCores: 0.5, memoryBytes: 512 * 2 ** 20 }],
    evidence: freshEv(`pod ${namespace}/${name} ${categories.join(',') || 'Running'}`),
    ...options,
  };
}

function object(namespace: string, name: string): ScoringNamespacedObject {
  return { namespace, name, evidence: freshEv() };
}

/** A namespace with a NetworkPolicy, a ResourceQuota and a LimitRange (no namespace rule applies). */
export function wellRunNamespace(name: string): ScoringInput {
  return {
    namespaces: [{ name, evidence: freshEv(`Namespace ${name}`) }],
    networkPolicies: [object(name, 'default-deny')],
    resourceQuotas: [object(name, 'quota')],
    limitRanges: [object(name, 'limits')],
  };
}

/** Concatenates inputs list by list. */
export function merge(...inputs: ScoringInput[]): ScoringInput {
  const out: Record<string, unknown[]> = {};
  for (const input of inputs) {
    for (const [k, v] of Object.entries(input) as [string, unknown[]][]) {
      out[k] = [...(out[k] ?? []), ...v];
    }
  }
  return out as ScoringInput;
}

/** `{points, count}` of a rule in a score, or undefined when it is not listed. */
export function ded(score: ScopeScore, rule: string): { points: number; count: number } | undefined {
  const d = score.deductions.find((x) => x.rule === rule);
  return d === undefined ? undefined : { points: d.points, count: d.count };
}
