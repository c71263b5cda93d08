/**
 * The thresholds and suggestion arithmetic of SPEC §8, and the text of patches and rationales,
 * as pure functions.
 */
import type { RecommendationTarget, RecommendationType, WorkloadRef } from './types.ts';

export const OVER_PROVISIONED_BELOW = 0.3;
export const UNDER_PROVISIONED_ABOVE = 0.85;
export const REQUEST_FACTOR = 1.2;
export const LIMIT_FACTOR = 1.5;
export const CPU_STEP_MILLI = 50;
export const MEMORY_STEP_MIB = 32;
export const IDLE_NODE_BELOW = 0.15;
export const NODE_MEMORY_ABOVE = 0.9;
export const NXDOMAIN_ABOVE = 0.05;
export const CACHE_HIT_BELOW = 0.6;
export const GC_GO_ABOVE_S = 0.05;
export const GC_JVM_ABOVE_S = 0.1;
export const MIB = 1_048_576;
export const GIB = 1_073_741_824;

/** Ratios and averages are compared at 1e-9 resolution, so 0.03 ÷ 0.1 counts as 0.30. */
export function round9(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

export function ratio(usage: number, request: number): number {
  return round9(usage / request);
}

/** x rounded up to a multiple of step; within 1e-9 steps of a multiple counts as on it. */
export function ceilToStep(x: number, step: number): number {
  const q = x / step;
  const r = Math.round(q);
  return (Math.abs(q - r) <= 1e-9 ? r : Math.ceil(q)) * step;
}

/** CPU suggestion from a p95 in cores: millicores, multiples of 50 m, at least 50 m. */
export function suggestCpuMilli(p95Cores: number): { request: number; limit: number } {
  return {
    request: Math.max(CPU_STEP_MILLI, ceilToStep(REQUEST_FACTOR * p95Cores * 1000, CPU_STEP_MILLI)),
    limit: Math.max(CPU_STEP_MILLI, ceilToStep(LIMIT_FACTOR * p95Cores * 1000, CPU_STEP_MILLI)),
  };
}

/** Memory suggestion from a p95 in bytes: MiB, multiples of 32 Mi, at least 32 Mi. */
export function suggestMemoryMib(p95Bytes: number): { request: number; limit: number } {
  return {
    request: Math.max(MEMORY_STEP_MIB, ceilToStep((REQUEST_FACTOR * p95Bytes) / MIB, MEMORY_STEP_MIB)),
    limit: Math.max(MEMORY_STEP_MIB, ceilToStep((LIMIT_FACTOR * p95Bytes) / MIB, MEMORY_STEP_MIB)),
  };
}

/** hpa-at-max: max(⌊1.5 × max⌋, max + 2). */
export function suggestedMaxReplicas(max: number): number {
  return Math.max(Math.floor(1.5 * max), max + 2);
}

/** Rounding direction of a ratio against the rightsizing band, or null inside it. */
export function provisioning(r: number): 'over' | 'under' | null {
  if (r < OVER_PROVISIONED_BELOW) return 'over';
  if (r > UNDER_PROVISIONED_ABOVE) return 'under';
  return null;
}

export function targetKey(t: RecommendationTarget): string {
  const base = `${t.kind}/${t.namespace ?? ''}/${t.name}`;
  return t.container === undefined ? base : `${base}/${t.container}`;
}

export function recommendationId(type: RecommendationType, target: RecommendationTarget): string {
  return `${type}:${targetKey(target)}`;
}

/** Fixed notation, at most `digits` decimals, trailing zeros dropped. */
export function fmt(x: number, digits = 3): string {
  const s = x.toFixed(digits);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export function pct(x: number): string {
  return `${fmt(x * 100, 2)} %`;
}

export function iso(ts: number): string {
  return new Date(ts).toISOString();
}

export function duration(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48 ? `${fmt(h / 24, 1)} d` : h >= 1 ? `${fmt(h, 1)} h` : `${fmt(ms / 60_000, 1)} min`;
}

/** Path from a workload kind to its pod spec, for a strategic-merge patch. */
export function podSpecPath(kind: string): string[] {
  if (kind === 'Pod') return ['spec'];
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template', 'spec'];
  return ['spec', 'template', 'spec'];
}

/** YAML of `path` nested maps (two-space indents), ending in `body` lines at the innermost level. */
export function nest(path: readonly string[], body: readonly string[]): string {
  const lines = path.map((p, i) => `${'  '.repeat(i)}${p}:`);
  const pad = '  '.repeat(path.length);
  return [...lines, ...body.map((l) => pad + l)].join('\n') + '\n';
}

export function kubectlPatch(kind: string, namespace: string | null, name: string): string {
  const ns = namespace === null ? '' : ` -n ${namespace}`;
  return `kubectl patch ${kind.toLowerCase()} ${name}${ns} --type strategic --patch-file patch.yaml`;
}

export interface ResourcePatch {
  readonly cpu?: { readonly request: number; readonly limit: number };
  readonly memory?: { readonly request: number; readonly limit: number };
}

/** The strategic-merge patch setting a container's resources (CPU in m, memory in Mi). */
export function resourcesPatch(workload: WorkloadRef, container: string, p: ResourcePatch): string {
  const requests: string[] = [];
  const limits: string[] = [];
  if (p.cpu !== undefined) {
    requests.push(`      cpu: ${p.cpu.request}m`);
    limits.push(`      cpu: ${p.cpu.limit}m`);
  }
  if (p.memory !== undefined) {
    requests.push(`      memory: ${p.memory.request}Mi`);
    limits.push(`      memory: ${p.memory.limit}Mi`);
  }
  return nest(
    [...podSpecPath(workload.kind), 'containers'],
    [`- name: ${container}`, '  resources:', '    requests:', ...requests, '    limits:', ...limits],
  );
}

export function ndotsPatch(): string {
  return nest(['spec', 'template', 'spec', 'dnsConfig', 'options'], ['- name: ndots', '  value: "2"']);
}
