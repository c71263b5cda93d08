import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { getCompileCacheDir } from 'node:module';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { KafkaLog } from '@hetu/streams';
import { WATCHED_KINDS } from '@hetu/producers/kube';
import { findKube } from '../kube.ts';
import type { LlmConfig } from '@hetu/producers/llm';
import type { GlobalConfig } from '../config.ts';

/** One line of `hetu doctor`: ok, a warning (hetu runs, with less), or a failure (it cannot). */
export interface DoctorCheck {
  readonly check: string;
  readonly status: 'ok' | 'warn' | 'fail' | 'off';
  /** What was found. */
  readonly detail: string;
  /** The exact fix, for warn and fail. */
  readonly fix?: string;
}

export interface DoctorOptions {
  readonly port: number;
  readonly host: string;
  readonly prometheus?: string;
  readonly llm?: LlmConfig;
  /** Kube config loading (a test points it at a file); default: KUBECONFIG, ~/.kube/config, in-cluster. */
  readonly kubeconfig?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** The kinds of SPEC §1 the collector gets, lists and watches (the collector's own list). */
export const WATCHED: readonly { kind: string; group: string; resource: string }[] = WATCHED_KINDS;

const msg = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

function nodeCheck(version = process.versions.node): DoctorCheck {
  const major = Number(version.split('.')[0]);
  return major >= 24
    ? { check: 'node', status: 'ok', detail: `Node ${version}` }
    : {
        check: 'node',
        status: 'fail',
        detail: `Node ${version} is older than 24`,
        fix: 'Run `npm install` in the hetu directory (it installs Node 24 into node_modules) and start hetu with `npm start` or `npx hetu`.',
      };
}

/**
 * Whether this process starts through the compile cache (docs/roles.md, "Start-up and the compile
 * cache"): `dir`, the cache in use (none: not started through cli/bin/hetu.js, or the cache could
 * not be turned on); `stripped`, whether Node had to load its TypeScript stripper all the same
 * (a cache that was cold, or missed some module).
 */
function compileCacheCheck(
  dir: string | undefined = getCompileCacheDir(),
  // (Node lists the internal modules it loaded in `process.moduleLoadList`, undocumented: the
  // stripper is `internal/deps/amaro`; without the list, taken as not loaded.)
  stripped: boolean = ((process as { moduleLoadList?: string[] }).moduleLoadList ?? []).some((m) =>
    m.includes('amaro'),
  ),
  env: NodeJS.ProcessEnv = process.env,
): DoctorCheck {
  if (env['HETU_COMPILE_CACHE'] === 'off')
    return { check: 'compile cache', status: 'off', detail: 'HETU_COMPILE_CACHE=off' };
  if (dir === undefined)
    return {
      check: 'compile cache',
      status: 'warn',
      detail:
        'not in use: Node strips every TypeScript file at each start (about 25 MiB more RSS per process)',
      fix: 'Start hetu through `npx hetu`, `npm start` or `node cli/bin/hetu.js` (not cli/src/main.ts), with HETU_COMPILE_CACHE unset or naming a directory this user may write.',
    };
  if (stripped)
    return {
      check: 'compile cache',
      status: 'warn',
      detail: `${dir}: some modules were not in it yet (filled now; the next start uses them)`,
      fix: 'Run `node cli/bin/warm-cache.js` once after installing or upgrading hetu (the image does it when it is built).',
    };
  return { check: 'compile cache', status: 'ok', detail: `${dir}: in use, no TypeScript stripped` };
}

function dataDirCheck(cfg: GlobalConfig): DoctorCheck {
  if (cfg.kafka)
    return {
      check: 'data dir',
      status: 'off',
      detail: `not used: the log is Kafka (${cfg.kafka.join(',')})`,
    };
  const dir = resolve(cfg.dataDir);
  const fix = `Pass --data-dir <a writable directory> or set HETU_DATA_DIR.`;
  try {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory())
        return { check: 'data dir', status: 'fail', detail: `${dir} exists and is not a directory`, fix };
      accessSync(dir, constants.W_OK);
      return { check: 'data dir', status: 'ok', detail: `${dir} (writable)` };
    }
    // The nearest existing parent must let hetu create it.
    let parent = dirname(dir);
    while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
    accessSync(parent, constants.W_OK);
    return { check: 'data dir', status: 'ok', detail: `${dir} (created on first start)` };
  } catch (err) {
    return { check: 'data dir', status: 'fail', detail: `${dir} is not writable: ${msg(err)}`, fix };
  }
}

function portCheck(host: string, port: number): Promise<DoctorCheck> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      done({
        check: 'port',
        status: 'fail',
        detail: `${host}:${port} is not available (${err.code ?? msg(err)})`,
        fix:
          err.code === 'EADDRINUSE'
            ? `Stop what listens on port ${port} (another hetu?) or pass --port <a free port>.`
            : `Pass --host <an address of this machine> and --port <a free port>.`,
      }),
    );
    server.listen(port, host, () =>
      server.close(() =>
        done({ check: 'port', status: 'ok', detail: `${host}:${port} is free for the API and the web app` }),
      ),
    );
  });
}

async function kafkaCheck(brokers: readonly string[], timeoutMs: number): Promise<DoctorCheck> {
  const log = new KafkaLog({
    brokers,
    clientId: 'hetu-doctor',
    connectionTimeoutMs: Math.min(timeoutMs, 3000),
  });
  try {
    const topics = await Promise.race([
      log.describeTopics(),
      new Promise<never>((_, rej) =>
        setTimeout(() => rej(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs),
      ),
    ]);
    const hetu = topics.filter((t) => t.name.startsWith('hetu.')).length;
    return {
      check: 'kafka',
      status: 'ok',
      detail: `${brokers.join(',')}: ${topics.length} topics, ${hetu} of them hetu's${hetu === 0 ? ' (created on first start)' : ''}`,
    };
  } catch (err) {
    return {
      check: 'kafka',
      status: 'fail',
      detail: `${brokers.join(',')} did not answer: ${msg(err)}`,
      fix: 'Start the brokers or pass --kafka <host:port,...> of a reachable cluster (HETU_KAFKA_BROKERS); `npm run infra:fetch && node infra/src/serve.ts` runs one locally.',
    };
  } finally {
    await log.close().catch(() => undefined);
  }
}

async function httpGet(url: string, timeoutMs: number, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  return { status: res.status, text };
}

async function registryCheck(url: string, timeoutMs: number): Promise<DoctorCheck> {
  const fix =
    'Start the registry or pass --registry <its Confluent-compatible URL> (HETU_SCHEMA_REGISTRY_URL); for Apicurio that is <url>/apis/ccompat/v7.';
  try {
    const r = await httpGet(`${url.replace(/\/+$/, '')}/subjects`, timeoutMs);
    if (r.status !== 200)
      return {
        check: 'schema registry',
        status: 'fail',
        detail: `${url}/subjects answered HTTP ${r.status}`,
        fix,
      };
    const subjects = JSON.parse(r.text) as unknown[];
    return { check: 'schema registry', status: 'ok', detail: `${url}: ${subjects.length} subjects` };
  } catch (err) {
    return { check: 'schema registry', status: 'fail', detail: `${url} did not answer: ${msg(err)}`, fix };
  }
}

async function prometheusCheck(url: string | undefined, timeoutMs: number): Promise<DoctorCheck> {
  if (!url)
    return {
      check: 'prometheus',
      status: 'warn',
      detail:
        'not configured: no metric samples, so no anomalies, rightsizing or cost efficiency from live metrics',
      fix: 'Pass --prometheus <url> or set HETU_PROMETHEUS_URL (e.g. http://prometheus.monitoring:9090).',
    };
  try {
    const r = await httpGet(`${url.replace(/\/+$/, '')}/api/v1/status/buildinfo`, timeoutMs);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    const v = (JSON.parse(r.text) as { data?: { version?: string } }).data?.version ?? '?';
    return { check: 'prometheus', status: 'ok', detail: `${url}: Prometheus ${v}` };
  } catch (err) {
    return {
      check: 'prometheus',
      status: 'fail',
      detail: `${url} did not answer as Prometheus: ${msg(err)}`,
      fix: 'Check the URL (the server root, without /api/v1) and that hetu may reach it.',
    };
  }
}

async function llmCheck(llm: LlmConfig | undefined, timeoutMs: number): Promise<DoctorCheck> {
  if (!llm)
    return {
      check: 'llm',
      status: 'off',
      detail:
        'not configured: incidents get the deterministic root cause only (set HETU_LLM_BASE_URL and HETU_LLM_MODEL for a second opinion)',
    };
  const base = llm.baseUrl.replace(/\/+$/, '');
  const fix = `Check HETU_LLM_BASE_URL (the OpenAI-compatible root, e.g. http://localhost:11434/v1) and HETU_LLM_API_KEY.`;
  try {
    const r = await httpGet(
      `${base}/models`,
      timeoutMs,
      llm.apiKey ? { authorization: `Bearer ${llm.apiKey}` } : {},
    );
    if (r.status === 401 || r.status === 403)
      return {
        check: 'llm',
        status: 'fail',
        detail: `${base}/models refused the API key (HTTP ${r.status})`,
        fix,
      };
    if (r.status !== 200)
      return { check: 'llm', status: 'fail', detail: `${base}/models answered HTTP ${r.status}`, fix };
    const ids = ((JSON.parse(r.text) as { data?: { id?: string }[] }).data ?? []).map((m) => m.id);
    return ids.includes(llm.model)
      ? { check: 'llm', status: 'ok', detail: `${base}: model ${llm.model} is served` }
      : {
          check: 'llm',
          status: 'warn',
          detail: `${base} answers, but does not list model ${llm.model} (${ids.length} models listed)`,
          fix: `Set HETU_LLM_MODEL to one of: ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}.`,
        };
  } catch (err) {
    return { check: 'llm', status: 'fail', detail: `${base} did not answer: ${msg(err)}`, fix };
  }
}

/** The Kubernetes context, the API server and what its RBAC allows the collector. */
async function kubeChecks(opts: DoctorOptions): Promise<DoctorCheck[]> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  const env = opts.env ?? process.env;
  const noContext: DoctorCheck = {
    check: 'kube context',
    status: 'warn',
    detail:
      'no Kubernetes context (KUBECONFIG, ~/.kube/config, in-cluster): `hetu start` plays the demo recording',
    fix: 'Point KUBECONFIG at a cluster (or run hetu inside one) to watch it.',
  };
  // Without any of these the client library makes up a context for http://localhost:8080.
  if (!opts.kubeconfig && findKube(env) === null) return [noContext];
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    return [
      {
        check: 'kube context',
        status: 'fail',
        detail: `the kubeconfig cannot be read: ${msg(err)}`,
        fix: 'Fix the file KUBECONFIG names (or ~/.kube/config), or unset KUBECONFIG to run on the demo.',
      },
    ];
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (!context || !cluster) return [noContext];
  const checks: DoctorCheck[] = [
    { check: 'kube context', status: 'ok', detail: `${context} → ${cluster.server}` },
  ];
  const timeout = <T>(p: Promise<T>) =>
    Promise.race([
      p,
      new Promise<never>((_, rej) =>
        setTimeout(
          () => rej(new Error(`no answer within ${opts.timeoutMs ?? 5000} ms`)),
          opts.timeoutMs ?? 5000,
        ),
      ),
    ]);
  try {
    const v = await timeout(kc.makeApiClient(k8s.VersionApi).getCode());
    checks.push({ check: 'kube api', status: 'ok', detail: `${cluster.server}: Kubernetes ${v.gitVersion}` });
  } catch (err) {
    checks.push({
      check: 'kube api',
      status: 'fail',
      detail: `${cluster.server} did not answer: ${msg(err)}`,
      fix: `Check that the API server of context ${context} is reachable from here and its credentials are valid (kubectl --context ${context} version).`,
    });
    return checks;
  }
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  const denied: string[] = [];
  const ask = async (verb: string, group: string, resource: string, subresource?: string) => {
    const r = await timeout(
      authz.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb, group, resource, ...(subresource ? { subresource } : {}) } },
        },
      }),
    );
    if (!r.status?.allowed)
      denied.push(`${verb} ${resource}${subresource ? '/' + subresource : ''}${group ? '.' + group : ''}`);
  };
  try {
    for (const w of WATCHED)
      for (const verb of ['get', 'list', 'watch']) await ask(verb, w.group, w.resource);
    await ask('get', '', 'pods', 'log');
  } catch (err) {
    checks.push({
      check: 'kube rbac',
      status: 'fail',
      detail: `SelfSubjectAccessReview failed: ${msg(err)}`,
      fix: 'The credentials need to create selfsubjectaccessreviews (every authenticated user may by default).',
    });
    return checks;
  }
  const asked = WATCHED.length * 3 + 1;
  checks.push(
    denied.length === 0
      ? {
          check: 'kube rbac',
          status: 'ok',
          detail: `allowed: get/list/watch on ${WATCHED.length} kinds and get pods/log (${asked} reviews)`,
        }
      : {
          check: 'kube rbac',
          status: 'fail',
          detail: `denied ${denied.length} of ${asked}: ${denied.slice(0, 6).join(', ')}${denied.length > 6 ? ', …' : ''}`,
          fix: 'Bind the read-only ClusterRole of the Helm chart (infra/helm/hetu, templates/rbac.yaml) to these credentials, or grant get/list/watch on those resources and get on pods/log.',
        },
  );
  return checks;
}

/** Every check, in order; `hetu doctor` prints them and exits non-zero when one failed. */
export async function runDoctor(cfg: GlobalConfig, opts: DoctorOptions): Promise<DoctorCheck[]> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const checks: DoctorCheck[] = [
    nodeCheck(),
    compileCacheCheck(undefined, undefined, opts.env),
    dataDirCheck(cfg),
    await portCheck(opts.host, opts.port),
  ];
  if (cfg.kafka) {
    checks.push(await kafkaCheck(cfg.kafka, timeoutMs));
    checks.push(await registryCheck(cfg.registry!, timeoutMs));
  } else
    checks.push({ check: 'kafka', status: 'off', detail: 'not configured: the embedded log (one machine)' });
  checks.push(...(await kubeChecks(opts)));
  checks.push(await prometheusCheck(opts.prometheus, timeoutMs));
  checks.push(await llmCheck(opts.llm, timeoutMs));
  return checks;
}

export { nodeCheck, compileCacheCheck, dataDirCheck };

const MARK: Record<DoctorCheck['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', off: 'off ' };

/** The checks as lines: status, check, what was found, and the fix indented below. */
export function formatChecks(checks: readonly DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.check.length));
  return checks
    .map(
      (c) =>
        `${MARK[c.status]}  ${c.check.padEnd(width)}  ${c.detail}${c.fix ? `\n${' '.repeat(width + 8)}→ ${c.fix}` : ''}`,
    )
    .join('\n');
}
