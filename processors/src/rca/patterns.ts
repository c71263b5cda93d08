/**
 * Message patterns the RCA reads. Kept in one place so docs/rca.md can cite them and tests can
 * pin them.
 */

/** Registry refused the credentials (or none were sent). */
export const PULL_UNAUTHORISED =
  /unauthori[sz]ed|authentication required|no basic auth credentials|\b401\b|\b403\b|forbidden|insufficient_scope|authorization failed/i;
/** Registry has no such repository, tag or digest. */
export const PULL_NOT_FOUND = /not found|manifest unknown|name unknown|\b404\b|does not exist/i;
/** Docker Hub's answer that cannot tell the two apart. */
export const PULL_AMBIGUOUS = /may require '?docker login'?/i;

/** A caller's error that says it could not reach something. */
export const CONNECTIVITY =
  /connection refused|ECONNREFUSED|ECONNRESET|connection reset|timed? ?out|timeout|deadline exceeded|no route to host|EHOSTUNREACH|no such host|ENOTFOUND|EAI_AGAIN|service unavailable|\b503\b|dial tcp|could not connect|unable to connect|failed to connect|connection closed|upstream connect error|unexpected EOF|broken pipe|EPIPE|no (?:available|alive|reachable) (?:brokers|nodes|servers|hosts)|out of available brokers/i;

/** An error that says the configuration, environment or a file is wrong or missing. */
export const CONFIG_ERROR =
  /config|environment variable|env var|\benv\b|missing required|required (key|setting|variable|field|property)|not set\b|is unset|no such file|ENOENT|FileNotFound|cannot (open|read(?! propert)|load|find)|could not (open|read|load|find|resolve placeholder)|failed to (load|read|parse)|invalid (value|setting|option|argument)|unknown (flag|option)|KeyError|undefined variable|permission denied|password authentication failed|authentication failed for user|access denied for user|invalid (username or password|credentials)|bad credentials/i;

/** A ConfigMap/Secret/PVC named in a kubelet message as missing. */
export const MISSING_OBJECT = /(configmap|secret|persistentvolumeclaim)s? "([^"]+)" not found/i;
/** `couldn't find key K in ConfigMap ns/name` (CreateContainerConfigError). */
export const MISSING_KEY = /couldn't find key \S+ in (ConfigMap|Secret) ([^/\s]+)\/([^\s"]+)/i;

/** Scheduler reasons in a FailedScheduling message, in the order they are reported. */
export const SCHEDULING_REASONS: ReadonlyArray<readonly [string, RegExp]> = [
  ['insufficient-cpu', /Insufficient cpu/i],
  ['insufficient-memory', /Insufficient memory/i],
  [
    'unbound-pvc',
    /unbound (immediate )?PersistentVolumeClaims?|persistentvolumeclaim "[^"]+" not found|pod has unbound/i,
  ],
  ['taint', /untolerated taint|had taints? .* that the pod didn't tolerate|had untolerated/i],
  ['node-selector', /node affinity|node selector|didn't match Pod's node/i],
  ['other', /./],
];

export const IMAGE_PULL_REASONS: ReadonlySet<string> = new Set(['ImagePullBackOff', 'ErrImagePull']);
export const IMAGE_IN_MESSAGE = /image "([^"]+)"/i;
export const PROBE_KIND = /(Liveness|Readiness|Startup) probe failed/i;

export function titleCaseKind(kind: string): string {
  const k = kind.toLowerCase();
  if (k === 'configmap') return 'ConfigMap';
  if (k === 'secret') return 'Secret';
  return 'PersistentVolumeClaim';
}
