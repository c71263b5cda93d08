import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

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

/** A loaded client configuration for a target. */
export function loadKube(target: KubeTarget): KubeConfig {
  const kc = new KubeConfig();
  if ('inCluster' in target) kc.loadFromCluster();
  else {
    kc.loadFromFile(target.kubeconfig);
    if (target.context) kc.setCurrentContext(target.context);
  }
  return kc;
}
