import type { ContainerSpec, PodTemplateSpec, ScoringWorkload } from './types.ts';

/** Regular then init containers: every container of the template the pod-spec rules read. */
function allContainers(spec: PodTemplateSpec): readonly ContainerSpec[] {
  return [...spec.containers, ...(spec.initContainers ?? [])];
}

/** A securityContext that is absent, null or `{}` (the API serves the pod's as `{}`) is none. */
function isEmptyContext(ctx: object | null | undefined): boolean {
  if (ctx === null || ctx === undefined) return true;
  return Object.values(ctx).every((v) => v === null || v === undefined);
}

function names(list: readonly ContainerSpec[]): string {
  return list.map((c) => c.name).join(', ');
}

/** Containers with `privileged: true`; undefined when there are none. */
export function privilegedDetail(w: ScoringWorkload): string | undefined {
  const hits = allContainers(w.podSpec).filter((c) => c.securityContext?.privileged === true);
  return hits.length === 0 ? undefined : `privileged: true on ${names(hits)}`;
}

/**
 * Containers that may run as root: the effective `runAsNonRoot` (container's, else the pod's)
 * is not true and the effective `runAsUser` (container's, else the pod's) is not above 0.
 */
export function rootDetail(w: ScoringWorkload): string | undefined {
  const pod = w.podSpec.securityContext ?? {};
  const hits = allContainers(w.podSpec).filter((c) => {
    const ctx = c.securityContext ?? {};
    const nonRoot = ctx.runAsNonRoot ?? pod.runAsNonRoot;
    const user = ctx.runAsUser ?? pod.runAsUser;
    return nonRoot !== true && !(typeof user === 'number' && user > 0);
  });
  return hits.length === 0
    ? undefined
    : `may run as root (no runAsNonRoot: true or runAsUser > 0 on container or pod): ${names(hits)}`;
}

export function hostNamespacesDetail(w: ScoringWorkload): string | undefined {
  const used = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => w.podSpec[f] === true);
  return used.length === 0 ? undefined : `${used.join(', ')}: true`;
}

const SECRET_NAME = /password|secret|api_key|apikey|token/i;

/**
 * Env vars from a `secretKeyRef`, or with a non-empty literal `value` under a name containing
 * password, secret, api_key, apikey or token (case-insensitive). Names only: never a value.
 */
export function secretsInEnvDetail(w: ScoringWorkload): string | undefined {
  const parts: string[] = [];
  for (const c of allContainers(w.podSpec)) {
    for (const env of c.env ?? []) {
      const ref = env.valueFrom?.secretKeyRef;
      if (ref !== null && ref !== undefined) {
        parts.push(`${c.name}: ${env.name} from secret ${ref.name ?? ''}/${ref.key}`);
      } else if (typeof env.value === 'string' && env.value !== '' && SECRET_NAME.test(env.name)) {
        parts.push(`${c.name}: ${env.name} literal value`);
      }
    }
  }
  return parts.length === 0 ? undefined : parts.join('; ');
}

export function writableRootDetail(w: ScoringWorkload): string | undefined {
  const hits = allContainers(w.podSpec).filter((c) => c.securityContext?.readOnlyRootFilesystem !== true);
  return hits.length === 0 ? undefined : `readOnlyRootFilesystem not true on ${names(hits)}`;
}

export function missingSecurityContextDetail(w: ScoringWorkload): string | undefined {
  if (!isEmptyContext(w.podSpec.securityContext)) return undefined;
  const hits = allContainers(w.podSpec).filter((c) => isEmptyContext(c.securityContext));
  return hits.length === 0 ? undefined : `no securityContext on ${names(hits)} nor on the pod`;
}
