import type { WorkloadRef } from './types.ts';

export type ParsedScope =
  | { type: 'cluster' }
  | { type: 'namespace'; namespace: string }
  | { type: 'workload'; namespace: string; kind: string; name: string; key: string };

/** `<ns>/<Kind>/<name>`: the key a workload's partial is stored under. */
export function workloadKey(w: WorkloadRef): string {
  return `${w.namespace}/${w.kind}/${w.name}`;
}

export function clusterScope(): string {
  return 'cluster';
}

export function namespaceScope(namespace: string): string {
  return `namespace:${namespace}`;
}

export function workloadScope(w: WorkloadRef): string {
  return `workload:${workloadKey(w)}`;
}

/**
 * `cluster`, `namespace:<ns>` or `workload:<ns>/<Kind>/<name>`; undefined for anything else.
 * Namespace and kind cannot contain `/`; the name is the rest.
 */
export function parseScope(scope: string): ParsedScope | undefined {
  if (scope === 'cluster') return { type: 'cluster' };
  if (scope.startsWith('namespace:')) {
    const namespace = scope.slice('namespace:'.length);
    return namespace === '' || namespace.includes('/') ? undefined : { type: 'namespace', namespace };
  }
  if (scope.startsWith('workload:')) {
    const key = scope.slice('workload:'.length);
    const first = key.indexOf('/');
    const second = first < 0 ? -1 : key.indexOf('/', first + 1);
    if (first <= 0 || second <= first + 1 || second === key.length - 1) return undefined;
    const namespace = key.slice(0, first);
    const kind = key.slice(first + 1, second);
    const name = key.slice(second + 1);
    if (name.includes('/')) return undefined;
    return { type: 'workload', namespace, kind, name, key };
  }
  return undefined;
}
