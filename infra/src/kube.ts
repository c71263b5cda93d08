/**
 * A real Kubernetes API server for the tests, on loopback: etcd, kube-apiserver and kwok (which plays
 * every node's kubelet: it writes node and pod status through the API according to the stages in
 * `infra/kube/stages/`, and serves the kubelet endpoints, pod logs among them). The three binaries are
 * built from the Go module proxy by `infra/kube/build.sh` (run by `npm run infra:fetch`).
 *
 * There is no scheduler and no controller-manager: pods must name their node (`spec.nodeName`),
 * Deployments make no ReplicaSets, namespaces are never finalized. See infra/README.md.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePorts,
  InfraError,
  retryOnPortClash,
  startProcess,
  waitUntil,
  type SupervisedProcess,
} from './supervisor.ts';

/** The label that picks a pod's simulated behaviour (see `infra/kube/stages/`). */
export const SIM_MODE_LABEL = 'sim.hetu.test/mode';
/** Values of {@link SIM_MODE_LABEL}; no label at all behaves as `running`. */
export type SimMode = 'running' | 'crashloop' | 'oomkilled' | 'imagepull';
/** Annotations read by the stages. */
export const SIM_ANNOTATIONS = {
  /** Only this container fails (crashloop, oomkilled, imagepull); default all containers. */
  container: 'sim.hetu.test/container',
  /** crashloop's exit code; default "1". */
  exitCode: 'sim.hetu.test/exit-code',
  /** Time between two restarts of a crash-looping container, a Go duration ("3s"); default "10s". */
  restartEvery: 'sim.hetu.test/restart-every',
} as const;

const INFRA_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface KubeLayout {
  readonly kubeVersion: string;
  readonly etcdVersion: string;
  readonly kwokVersion: string;
  /** Holds `etcd`, `kube-apiserver` and `kwok`. */
  readonly binDir: string;
  /** kwok's stage files (`infra/kube/stages`). */
  readonly stagesDir: string;
  /** Pid files of the services, shared by all runs (the same folder as Kafka's). */
  readonly pidDir: string;
}

/** The stack's versions: `infra/kube/versions.env` and the etcd version that `infra/kube/go.mod` resolved. */
export function kubeVersions(rootDir: string): { kube: string; etcd: string; kwok: string } {
  const env = readFileSync(join(rootDir, 'infra/kube/versions.env'), 'utf8');
  const val = (name: string): string => {
    const m = new RegExp(`^${name}=(\\S+)`, 'm').exec(env);
    if (!m?.[1]) throw new InfraError('HETU_INFRA_VERSIONS', `infra/kube/versions.env has no ${name}.`);
    return m[1];
  };
  const gomod = readFileSync(join(rootDir, 'infra/kube/go.mod'), 'utf8');
  const etcd = /go\.etcd\.io\/etcd\/server\/v3 (v\S+)/.exec(gomod)?.[1];
  if (!etcd)
    throw new InfraError(
      'HETU_INFRA_VERSIONS',
      'infra/kube/go.mod does not require go.etcd.io/etcd/server/v3.',
    );
  return { kube: val('KUBE_VERSION'), etcd, kwok: val('KWOK_VERSION') };
}

/**
 * Finds the binaries that `infra/fetch.sh` built under `<rootDir>/.cache/infra`, or throws one sentence
 * that says to run `npm run infra:fetch`.
 */
export function locateKube(rootDir: string): KubeLayout {
  const v = kubeVersions(rootDir);
  const cache = join(rootDir, '.cache/infra');
  const dir = join(cache, `kube-v${v.kube}-etcd-${v.etcd}-kwok-${v.kwok}`);
  const binDir = join(dir, 'bin');
  const complete =
    existsSync(join(dir, '.complete')) &&
    ['etcd', 'kube-apiserver', 'kwok'].every((b) => existsSync(join(binDir, b)));
  if (!complete) {
    throw new InfraError(
      'HETU_INFRA_NOT_FETCHED',
      `etcd ${v.etcd}, kube-apiserver v${v.kube} and kwok ${v.kwok} not found in ${cache}: run npm run infra:fetch.`,
    );
  }
  return {
    kubeVersion: v.kube,
    etcdVersion: v.etcd,
    kwokVersion: v.kwok,
    binDir,
    stagesDir: join(rootDir, 'infra/kube/stages'),
    pidDir: join(cache, 'pids'),
  };
}

/** Where kwok reads a pod's log from (a kwok `Logs` object for one pod, `ClusterLogs` otherwise). */
export interface KubeLogSource {
  /** Only pods of this namespace (all namespaces when absent). */
  readonly namespace?: string;
  /** Only this pod (needs `namespace`). */
  readonly pod?: string;
  /** Only these containers (all when absent). */
  readonly containers?: readonly string[];
  /** A file of CRI log lines: `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`. */
  readonly file: string;
  /** Served for `previous=true`. */
  readonly previousFile?: string;
}

export interface KubeOptions {
  /** Holds `etcd`, `kube-apiserver`, `kwok` (`locateKube(root).binDir`). */
  readonly binDir: string;
  /** Folder of pid files shared by all runs (see `killStaleProcesses`). */
  readonly pidDir: string;
  /** kwok stage files. Default `infra/kube/stages`. */
  readonly stagesDir?: string;
  /** Nodes created (and awaited Ready) at start; kwok manages every node. Default `['kwok-node-0']`. */
  readonly nodes?: readonly string[];
  /**
   * Log files of particular namespaces or pods, matched before the default: every other pod's log is
   * `KubeHandle.logFile` (previous: `previousLogFile`). kwok reads these settings once, at start.
   */
  readonly logs?: readonly KubeLogSource[];
  /** Where the per-run directory is made. Default the OS temp dir. */
  readonly baseDir?: string;
  /** Deadline of each of the three start steps (etcd, API server, kwok + nodes). Default 120 000 ms. */
  readonly readyTimeoutMs?: number;
  /** Extra kube-apiserver flags, after the defaults (e.g. `--watch-cache=false`). */
  readonly apiserverArgs?: readonly string[];
}

/** What a client needs: the API server's URL, a bearer token of a cluster-admin and the CA to trust. */
export interface KubeConnection {
  readonly server: string;
  readonly token: string;
  /** PEM of the API server's self-signed serving certificate and its CA. */
  readonly ca: string;
}

export interface KubeHandle extends KubeConnection {
  /** A kubeconfig file (context `hetu-test`) for `@kubernetes/client-node`, kubectl, kwok. */
  readonly kubeconfig: string;
  readonly nodes: readonly string[];
  /** The log every pod's containers show unless `KubeOptions.logs` says otherwise (created empty). */
  readonly logFile: string;
  readonly previousLogFile: string;
  readonly runDir: string;
  /** etcd's client URL (plain HTTP on loopback; its v3 JSON gateway answers under `/v3/`). */
  readonly etcd: string;
  readonly pids: { readonly etcd: number; readonly apiserver: number; readonly kwok: number };
  readonly logFiles: { readonly etcd: string; readonly apiserver: string; readonly kwok: string };
  /** Stops kwok, the API server and etcd (SIGTERM, SIGKILL after 10 s), removes the run dir. Idempotent. */
  stop(): Promise<void>;
}

export interface KubeResponse {
  readonly status: number;
  readonly text: string;
}

/** One HTTPS request to the API server (JSON body, bearer token, the server's CA trusted). */
export function kubeRequest(
  conn: KubeConnection,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<KubeResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      new URL(path, conn.server),
      {
        method,
        ca: conn.ca,
        headers: {
          authorization: `Bearer ${conn.token}`,
          accept: 'application/json',
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

/** kwok `Logs`/`ClusterLogs` objects: the specific sources first, then the catch-all default. */
export function kwokLogsConfig(sources: readonly KubeLogSource[], fallback: KubeLogSource): string {
  const logEntry = (s: KubeLogSource): string[] => [
    '  logs:',
    `  - logsFile: ${yamlString(s.file)}`,
    ...(s.previousFile ? [`    previousLogsFile: ${yamlString(s.previousFile)}`] : []),
    ...(s.containers?.length ? [`    containers: [${s.containers.map(yamlString).join(', ')}]`] : []),
    // no `follow:` here: kwok v0.8.0 ignores it; the request's `follow=true` decides
  ];
  const docs: string[][] = [];
  sources.forEach((s, i) => {
    if (s.pod) {
      if (!s.namespace)
        throw new InfraError('HETU_INFRA_KUBE_LOGS', `log source for pod ${s.pod} needs a namespace.`);
      docs.push([
        'apiVersion: kwok.x-k8s.io/v1alpha1',
        'kind: Logs',
        `metadata: {name: ${yamlString(s.pod)}, namespace: ${yamlString(s.namespace)}}`,
        'spec:',
        ...logEntry(s),
      ]);
    } else {
      docs.push([
        'apiVersion: kwok.x-k8s.io/v1alpha1',
        'kind: ClusterLogs',
        `metadata: {name: hetu-logs-${i}}`,
        'spec:',
        `  selector: {matchNamespaces: [${s.namespace ? yamlString(s.namespace) : ''}]}`,
        ...logEntry(s),
      ]);
    }
  });
  docs.push([
    'apiVersion: kwok.x-k8s.io/v1alpha1',
    'kind: ClusterLogs',
    'metadata: {name: hetu-logs-default}',
    'spec:',
    '  selector: {}',
    ...logEntry(fallback),
  ]);
  return docs.map((d) => d.join('\n')).join('\n---\n') + '\n';
}

function kubeconfigYaml(server: string, token: string, ca: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: hetu-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${Buffer.from(ca).toString('base64')}`,
    'users:',
    '- name: hetu-admin',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: hetu-test',
    '  context: {cluster: hetu-test, user: hetu-admin}',
    'current-context: hetu-test',
    '',
  ].join('\n');
}

async function etcdHealthy(port: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as { health?: string };
  return res.status === 200 && body.health === 'true';
}

async function nodeReady(conn: KubeConnection, name: string): Promise<boolean> {
  const res = await kubeRequest(conn, 'GET', `/api/v1/nodes/${name}`, undefined, 3000);
  if (res.status !== 200) return false;
  const node = JSON.parse(res.text) as {
    status?: { conditions?: { type: string; status: string }[] };
  };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Lists the `.yaml` stage files of a folder, in name order. */
function stageFiles(dir: string): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    // reported below
  }
  const files = names.filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f));
  if (files.length === 0)
    throw new InfraError('HETU_INFRA_KUBE_STAGES', `no kwok stage files (*.yaml) in ${dir}.`);
  return files;
}

/**
 * Starts etcd, kube-apiserver and kwok on free loopback ports, creates the nodes and waits until they
 * are Ready. On failure whatever started is stopped, the run dir kept, and the log's tail is in the error.
 */
export function startKube(opts: KubeOptions): Promise<KubeHandle> {
  return retryOnPortClash(() => startKubeOnce(opts));
}

async function startKubeOnce(opts: KubeOptions): Promise<KubeHandle> {
  const timeoutMs = opts.readyTimeoutMs ?? 120_000;
  const bin = (name: string) => join(opts.binDir, name);
  for (const b of ['etcd', 'kube-apiserver', 'kwok']) {
    if (!existsSync(bin(b))) {
      throw new InfraError('HETU_INFRA_NOT_FETCHED', `${bin(b)} is missing: run npm run infra:fetch.`);
    }
  }
  const stages = stageFiles(opts.stagesDir ?? join(INFRA_DIR, 'kube/stages'));
  const runDir = mkdtempSync(join(opts.baseDir ?? tmpdir(), 'hetu-kube-'));
  const [etcdPort, etcdPeerPort, apiPort, kwokPort] = await freePorts(4);
  if (
    etcdPort === undefined ||
    etcdPeerPort === undefined ||
    apiPort === undefined ||
    kwokPort === undefined
  ) {
    throw new Error('freePorts(4)');
  }
  const started: SupervisedProcess[] = [];
  const stopAll = async (graceMs: number) => {
    for (const p of [...started].reverse()) await p.stop(graceMs);
  };
  try {
    // ---- etcd
    const etcd = startProcess({
      name: 'etcd',
      command: bin('etcd'),
      args: [
        '--name=hetu',
        `--data-dir=${join(runDir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=hetu=http://127.0.0.1:${etcdPeerPort}`,
        // test data: no fsync, a small quota, compaction every hour
        '--unsafe-no-fsync',
        '--quota-backend-bytes=1073741824',
        '--auto-compaction-retention=1',
        '--log-level=warn',
      ],
      runDir,
      pidDir: opts.pidDir,
    });
    started.push(etcd);
    await waitUntil('etcd', () => etcdHealthy(etcdPort), { timeoutMs, process: etcd });

    // ---- kube-apiserver
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(runDir, 'tokens.csv'), `${token},hetu-admin,hetu-admin-uid,"system:masters"\n`, {
      mode: 0o600,
    });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(runDir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    const certDir = join(runDir, 'apiserver-certs');
    const apiserver = startProcess({
      name: 'kube-apiserver',
      command: bin('kube-apiserver'),
      args: [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        // no --tls-cert-file: the server makes itself a CA and a serving cert for 127.0.0.1 here
        `--cert-dir=${certDir}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(runDir, 'sa.key')}`,
        `--service-account-signing-key-file=${join(runDir, 'sa.key')}`,
        '--service-cluster-ip-range=10.96.0.0/16',
        `--token-auth-file=${join(runDir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        // no controller-manager makes the default ServiceAccounts, so pods must not need them
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--enable-priority-and-fairness=false',
        // the `kubernetes` Service's endpoint may not be a loopback address: do not reconcile it
        '--endpoint-reconciler-type=none',
        // kwok's node address: InternalIP 127.0.0.1, port --node-port (kwok's server)
        '--kubelet-preferred-address-types=InternalIP,Hostname',
        '--profiling=false',
        '--v=0',
        ...(opts.apiserverArgs ?? []),
      ],
      runDir,
      pidDir: opts.pidDir,
    });
    started.push(apiserver);
    const server = `https://127.0.0.1:${apiPort}`;
    const certFile = join(certDir, 'apiserver.crt');
    let conn: KubeConnection | null = null;
    await waitUntil(
      'kube-apiserver',
      async () => {
        if (!conn) {
          if (!existsSync(certFile)) return false;
          conn = { server, token, ca: readFileSync(certFile, 'utf8') };
        }
        const res = await kubeRequest(conn, 'GET', '/readyz', undefined, 3000);
        return res.status === 200 && res.text.trim() === 'ok';
      },
      { timeoutMs, process: apiserver },
    );
    if (!conn) throw new Error('unreachable: no connection after readiness');
    const c: KubeConnection = conn;
    const kubeconfig = join(runDir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, token, c.ca), { mode: 0o600 });

    // ---- kwok
    const logDir = join(runDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const logFile = join(logDir, 'current.log');
    const previousLogFile = join(logDir, 'previous.log');
    writeFileSync(logFile, '');
    writeFileSync(previousLogFile, '');
    const kwokLogs = join(runDir, 'kwok-logs.yaml');
    writeFileSync(
      kwokLogs,
      kwokLogsConfig(opts.logs ?? [], { file: logFile, previousFile: previousLogFile }),
    );
    const kwok = startProcess({
      name: 'kwok',
      command: bin('kwok'),
      args: [
        `--kubeconfig=${kubeconfig}`,
        // --config given, so ~/.kwok/kwok.yaml is not read
        ...stages.map((f) => `--config=${f}`),
        `--config=${kwokLogs}`,
        '--manage-all-nodes=true',
        '--node-name=localhost',
        '--node-ip=127.0.0.1',
        `--node-port=${kwokPort}`,
        `--server-address=127.0.0.1:${kwokPort}`,
        // pod IPs (never routed): room for the 10 000-pod bench on one node
        '--cidr=10.244.0.1/16',
      ],
      runDir,
      pidDir: opts.pidDir,
    });
    started.push(kwok);
    await waitUntil(
      'kwok',
      async () => {
        const res = await fetch(`http://127.0.0.1:${kwokPort}/healthz`, {
          signal: AbortSignal.timeout(2000),
        });
        await res.arrayBuffer();
        return res.status === 200;
      },
      { timeoutMs, process: kwok },
    );
    const nodes = [...(opts.nodes ?? ['kwok-node-0'])];
    for (const name of nodes) {
      const res = await kubeRequest(c, 'POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { type: 'kwok', 'kubernetes.io/hostname': name } },
      });
      if (res.status !== 201) {
        throw new InfraError(
          'HETU_INFRA_KUBE_NODE',
          `creating node ${name} failed: HTTP ${res.status} ${res.text}`,
        );
      }
    }
    await waitUntil(
      `kwok nodes ${nodes.join(', ')} Ready`,
      async () => (await Promise.all(nodes.map((n) => nodeReady(c, n)))).every(Boolean),
      { timeoutMs, process: kwok },
    );

    let stopped: Promise<void> | null = null;
    return {
      ...c,
      kubeconfig,
      nodes,
      logFile,
      previousLogFile,
      runDir,
      etcd: `http://127.0.0.1:${etcdPort}`,
      pids: { etcd: etcd.pid, apiserver: apiserver.pid, kwok: kwok.pid },
      logFiles: { etcd: etcd.logFile, apiserver: apiserver.logFile, kwok: kwok.logFile },
      stop() {
        stopped ??= (async () => {
          await stopAll(10_000);
          rmSync(runDir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (err) {
    await stopAll(5_000);
    throw err;
  }
}
