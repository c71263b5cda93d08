/**
 * How the collectors reach the API server: its URL and the TLS options and headers of a request,
 * from a kubeconfig file, the in-cluster service account, or a loaded client-library KubeConfig.
 *
 * Why not always `@kubernetes/client-node`'s KubeConfig: its module loads the library's whole
 * generated API (every model and client) — importing it takes a bare Node from 41 to 125 MiB RSS,
 * a third of the collector pod's 256 Mi limit (docs/benchmarks.md, collectors at 10 000 pods).
 * The collectors make their own HTTP requests and need only credentials, so the common static ones
 * are read here: in-cluster (the service account token, re-read every minute as it rotates, and
 * CA), and kubeconfig users with client certificates, a token, a token file, or basic auth,
 * clusters with a CA, `insecure-skip-tls-verify` and `tls-server-name` — paths relative to the
 * kubeconfig's folder, as kubectl does. Users with an `exec` plugin or an `auth-provider`
 * (cloud logins, OIDC), and clusters behind a `proxy-url`, are handed to the client library,
 * loaded on the first request only then.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { parse as parseYaml } from 'yaml';
import { HetuError } from '@hetu/streams';

/** The part of the client library's KubeConfig the collectors use (a loaded one may be passed). */
export interface KubeConfigLike {
  getCurrentContext(): string;
  getCurrentCluster(): { readonly server: string } | null;
  setCurrentContext(name: string): void;
  applyToHTTPSOptions(opts: never): Promise<void>;
}

/** Where the credentials come from. */
export type KubeSource =
  | { readonly kubeconfig: string; readonly context?: string }
  | { readonly inCluster: true; readonly serviceAccountDir?: string }
  | { readonly kubeConfig: KubeConfigLike; readonly context?: string };

export interface KubeAccess {
  /** The context's name (`inClusterContext` in a pod, as the client library names it). */
  readonly context: string;
  /** The API server's root. */
  readonly server: URL;
  /** Adds the TLS options and the Authorization header of a request to `o`. */
  applyTo(o: RequestOptions): Promise<void>;
}

/** The service account's files in a pod. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A token file is read again after this long (projected tokens rotate; kubelet rewrites the file). */
const TOKEN_FILE_TTL_MS = 60_000;

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The `name`d entry of a kubeconfig list (`clusters`, `users`, `contexts`), its inner object. */
function named(list: unknown, name: string, field: string): Obj | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const e of list) {
    const o = obj(e);
    if (o !== undefined && o['name'] === name) return obj(o[field]) ?? {};
  }
  return undefined;
}

function names(list: unknown): string[] {
  return Array.isArray(list)
    ? list.flatMap((e) => (typeof obj(e)?.['name'] === 'string' ? [obj(e)!['name'] as string] : []))
    : [];
}

/** A file read again once `TOKEN_FILE_TTL_MS` passed (or its modification time changed). */
function tokenFile(path: string): () => string {
  let token = '';
  let readAt = -Infinity;
  let mtime = -1;
  return () => {
    const now = Date.now();
    const modified = statSync(path).mtimeMs;
    if (now - readAt >= TOKEN_FILE_TTL_MS || modified !== mtime) {
      mtime = modified;
      token = readFileSync(path, 'utf8').trim();
      readAt = now;
    }
    return token;
  };
}

function fromKubeConfig(kc: KubeConfigLike, context: string | undefined): KubeAccess {
  if (context !== undefined) kc.setCurrentContext(context);
  const cluster = kc.getCurrentCluster();
  if (cluster === null)
    throw new HetuError(
      'HETU_KUBE_CONFIG_MISSING',
      'The kubeconfig has no current cluster; pick a context that names one.',
    );
  return {
    context: kc.getCurrentContext(),
    server: new URL(cluster.server),
    applyTo: (o) => kc.applyToHTTPSOptions(o as never),
  };
}

function inCluster(env: NodeJS.ProcessEnv, dir: string): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || port === undefined)
    throw new HetuError(
      'HETU_KUBE_CONFIG_MISSING',
      'In-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which Kubernetes sets in every pod: run hetu in a pod, or pass a kubeconfig.',
    );
  // as the client library: these ports are plain HTTP (a kubectl proxy sidecar)
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const server = new URL(`${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`);
  const token = tokenFile(join(dir, 'token'));
  const caPath = join(dir, 'ca.crt');
  let ca: Buffer | undefined;
  return {
    context: 'inClusterContext',
    server,
    applyTo: async (o) => {
      ca ??= readFileSync(caPath);
      o.ca = ca;
      o.headers = { ...o.headers, authorization: `Bearer ${token()}` };
    },
  };
}

/** The bytes of `<field>` (a path, relative to the kubeconfig's folder) or `<field>-data` (base64). */
function fileOrData(o: Obj, field: string, root: string): Buffer | undefined {
  const data = str(o[`${field}-data`]);
  const file = str(o[field]);
  if (file !== undefined) return readFileSync(isAbsolute(file) ? file : join(root, file));
  if (data !== undefined) return Buffer.from(data, 'base64');
  return undefined;
}

function fromFile(path: string, wanted: string | undefined): KubeAccess {
  let doc: Obj | undefined;
  try {
    doc = obj(parseYaml(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new HetuError(
      'HETU_KUBE_CONFIG_MISSING',
      `The kubeconfig ${path} could not be read (${err instanceof Error ? err.message : String(err)}): check the path and that it is YAML as kubectl writes it.`,
    );
  }
  if (doc === undefined)
    throw new HetuError(
      'HETU_KUBE_CONFIG_MISSING',
      `The kubeconfig ${path} is empty: point to the file kubectl uses.`,
    );
  const contextName = wanted ?? str(doc['current-context']);
  if (contextName === undefined)
    throw new HetuError(
      'HETU_KUBE_CONFIG_MISSING',
      `The kubeconfig ${path} has no current context: pass --context, or set one with 'kubectl config use-context'.`,
    );
  const ctx = named(doc['contexts'], contextName, 'context');
  if (ctx === undefined)
    throw new HetuError(
      'HETU_KUBE_CONFIG_MISSING',
      `The kubeconfig ${path} has no context ${contextName}: use one of ${names(doc['contexts']).join(', ') || '(none)'}.`,
    );
  const clusterName = str(ctx['cluster']);
  const cluster = clusterName === undefined ? undefined : named(doc['clusters'], clusterName, 'cluster');
  const server = cluster === undefined ? undefined : str(cluster['server']);
  if (cluster === undefined || server === undefined)
    throw new HetuError(
      'HETU_KUBE_CONFIG_MISSING',
      `The context ${contextName} of ${path} names no cluster with a server: pick a context that names one.`,
    );
  const userName = str(ctx['user']);
  const user = (userName === undefined ? undefined : named(doc['users'], userName, 'user')) ?? {};
  const root = dirname(path);

  // Credentials made by a program or a provider: the client library knows them all.
  if (
    user['exec'] !== undefined ||
    user['auth-provider'] !== undefined ||
    str(cluster['proxy-url']) !== undefined
  ) {
    let loaded: Promise<KubeConfigLike> | undefined;
    return {
      context: contextName,
      server: new URL(server),
      applyTo: async (o) => {
        loaded ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
          const kc = new KubeConfig();
          kc.loadFromFile(path);
          kc.setCurrentContext(contextName);
          return kc;
        });
        await (await loaded).applyToHTTPSOptions(o as never);
      },
    };
  }

  const skipVerify = cluster['insecure-skip-tls-verify'] === true;
  if (server.startsWith('http:') && !skipVerify)
    throw new HetuError(
      'HETU_KUBE_CONFIG_MISSING',
      `The cluster of context ${contextName} in ${path} is plain http (${server}) without insecure-skip-tls-verify: use its https address.`,
    );
  const servername = str(cluster['tls-server-name']);
  const ca = fileOrData(cluster, 'certificate-authority', root);
  const cert = fileOrData(user, 'client-certificate', root);
  const key = fileOrData(user, 'client-key', root);
  const token = str(user['token']);
  const tokenPath = str(user['tokenFile']) ?? str(user['token-file']);
  const fileToken =
    tokenPath === undefined
      ? undefined
      : tokenFile(isAbsolute(tokenPath) ? tokenPath : join(root, tokenPath));
  const username = str(user['username']);
  const password = str(user['password']);
  const as = str(user['as']);
  return {
    context: contextName,
    server: new URL(server),
    applyTo: async (o) => {
      if (skipVerify) o.rejectUnauthorized = false;
      if (servername !== undefined) o.servername = servername;
      if (ca !== undefined) o.ca = ca;
      if (cert !== undefined) o.cert = cert;
      if (key !== undefined) o.key = key;
      const headers: Record<string, string> = {};
      const bearer = token ?? fileToken?.();
      if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
      else if (username !== undefined) o.auth = `${username}:${password ?? ''}`;
      if (as !== undefined) headers['impersonate-user'] = as;
      o.headers = { ...o.headers, ...headers };
    },
  };
}

/**
 * The API server and credentials of a source. Throws a HetuError with the fix when the kubeconfig
 * cannot be read or names no usable context.
 */
export function kubeAccess(source: KubeSource, env: NodeJS.ProcessEnv = process.env): KubeAccess {
  if ('kubeConfig' in source) return fromKubeConfig(source.kubeConfig, source.context);
  if ('inCluster' in source) return inCluster(env, source.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  return fromFile(source.kubeconfig, source.context);
}

/** The source named by a collector's options (`kubeConfig`, `kubeconfig` + `context`, `inCluster`). */
export function kubeSourceOf(
  opts: {
    readonly kubeConfig?: KubeConfigLike;
    readonly kubeconfig?: string;
    readonly context?: string;
    readonly inCluster?: boolean;
    readonly serviceAccountDir?: string;
  },
  who: string,
): KubeSource {
  if (opts.kubeConfig !== undefined)
    return { kubeConfig: opts.kubeConfig, ...(opts.context !== undefined ? { context: opts.context } : {}) };
  if (opts.kubeconfig !== undefined)
    return { kubeconfig: opts.kubeconfig, ...(opts.context !== undefined ? { context: opts.context } : {}) };
  if (opts.inCluster === true)
    return {
      inCluster: true,
      ...(opts.serviceAccountDir !== undefined ? { serviceAccountDir: opts.serviceAccountDir } : {}),
    };
  throw new HetuError(
    'HETU_KUBE_CONFIG_MISSING',
    `The ${who} needs a kubeconfig file, a loaded KubeConfig or inCluster: true; pass one of them.`,
  );
}
