import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { kubeAccess, type KubeAccess, type KubeSource } from '@hetu/producers/kube';

/** Where the cluster's credentials come from. */
export type KubeTarget =
  | { readonly kubeconfig: string; readonly context?: string }
  | { readonly inCluster: true };

/** The service account token a pod gets: its presence (with the service env) means "in a cluster". */
export const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * The cluster to watch, found as kubectl finds it: the first file of KUBECONFIG, else
 * ~/.kube/config, else the in-cluster service account; null when there is none (then `hetu start`
 * plays the demo). The client library alone would make up a context for http://localhost:8080.
 */
export function findKube(env: NodeJS.ProcessEnv): KubeTarget | null {
  const fromEnv = (env.KUBECONFIG ?? '').split(':').find((f) => f !== '' && existsSync(f));
  if (fromEnv) return { kubeconfig: fromEnv };
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return { kubeconfig: home };
  if (env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(IN_CLUSTER_TOKEN)) return { inCluster: true };
  return null;
}

/** The collectors' options for a target (spread into `createKubeCollector` and the others). */
export function kubeSource(target: KubeTarget): KubeSource {
  if ('inCluster' in target) return { inCluster: true };
  return { kubeconfig: target.kubeconfig, ...(target.context ? { context: target.context } : {}) };
}

/**
 * The API server and credentials of a target, read without the client library (whose module
 * alone costs ~85 MiB: producers/src/kube/access.ts). Throws a HetuError with the fix when the
 * kubeconfig cannot be used.
 */
export function loadKube(target: KubeTarget): KubeAccess {
  return kubeAccess(kubeSource(target));
}
