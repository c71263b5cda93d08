/**
 * Secret redaction (SPEC §7, LLM part): every text that may leave the cluster for an LLM passes
 * through `redact` first. A secret is replaced by `[REDACTED:<kind>]`; the findings count the
 * replacements per kind, for the audit record.
 *
 * Every pattern runs in linear time on V8's backtracking engine: a pattern starts only at a token
 * boundary (a one-character negative lookbehind) or at a fixed literal, and its quantified parts
 * are either bounded or separated by characters their classes exclude, so no input makes one
 * start position cost more than the token it starts, or make many start positions each scan far.
 * Generic `name=value` pairs are matched in two steps (the name first, the value only when the
 * name is a secret's) so a long run of harmless pairs is never scanned twice.
 */

export interface RedactionFinding {
  readonly kind: string;
  readonly count: number;
}

export interface RedactionResult {
  readonly text: string;
  /** Replacements per kind, sorted by kind; empty when nothing was found. */
  readonly findings: RedactionFinding[];
}

export const REDACTED_PREFIX = '[REDACTED:';

function marker(kind: string): string {
  return `${REDACTED_PREFIX}${kind}]`;
}

type Counts = Map<string, number>;

function bump(counts: Counts, kind: string, n = 1): void {
  counts.set(kind, (counts.get(kind) ?? 0) + n);
}

function findingsOf(counts: Counts): RedactionFinding[] {
  return [...counts.entries()]
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([kind, count]) => ({ kind, count }));
}

// ---------------------------------------------------------------------------------------------
// Secret-looking names (`DB_PASSWORD`, `apiKey`, `client_secret`, `x-auth-token`, …)

const PASSWORD_WORDS = new Set(['password', 'passwd', 'pwd', 'pass', 'passphrase', 'passcode']);
const KEY_QUALIFIERS = new Set([
  'api',
  'access',
  'secret',
  'private',
  'client',
  'auth',
  'encryption',
  'signing',
  'master',
  'account',
  'shared',
  'ssh',
  'license',
  'app',
  'subscription',
  'storage',
  'admin',
  'service',
  'webhook',
  'consumer',
]);
const SINGLE_WORD_KEYS = new Set([
  'apikey',
  'accesskey',
  'secretkey',
  'privatekey',
  'accountkey',
  'sharedaccesskey',
]);

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/**
 * The kind of secret a name announces, judged by its last word (`secretName` and `token_count`
 * are not secrets, `DB_PASSWORD` and `apiKey` are), or null.
 */
export function secretNameKind(name: string): string | null {
  const w = words(name);
  const last = w[w.length - 1];
  if (last === undefined) return null;
  const lower = name.toLowerCase().replace(/^-+/, '');
  if (lower === 'pwd' || lower === 'oldpwd') return null; // the shell's working directory
  const has = (x: string): boolean => w.includes(x);
  if (PASSWORD_WORDS.has(last)) return 'password';
  if (last === 'secret') return has('aws') ? 'aws-secret-key' : 'secret';
  if (last === 'token') return 'token';
  if (last === 'credential' || last === 'credentials' || last === 'creds') return 'credential';
  if (last === 'sig' || last === 'signature') return 'signature';
  if (last === 'auth') return 'auth';
  const prev = w[w.length - 2];
  if (SINGLE_WORD_KEYS.has(last) || (last === 'key' && prev !== undefined && KEY_QUALIFIERS.has(prev))) {
    if (has('aws') && has('secret')) return 'aws-secret-key';
    if (last === 'accountkey' || last === 'sharedaccesskey' || has('account') || has('shared')) {
      return 'azure-key';
    }
    return 'api-key';
  }
  return null;
}

/** Env var names the security rules treat as secret (SPEC §3.2 `secrets-in-env`, widened). */
function secretEnvName(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    /password|passwd|secret|api_?key|token|credential|private_?key|access_?key/.test(lower) ||
    secretNameKind(name) !== null
  );
}

/** A value after `name:` (prose or YAML) is only taken for a secret when it looks like one. */
function looksSecret(value: string): boolean {
  return value.length >= 16 || (value.length >= 8 && /[0-9]/.test(value) && /[A-Za-z]/.test(value));
}

const NOT_A_VALUE = new Set(['', 'true', 'false', 'null', 'undefined', 'nil', 'none']);

function isRedacted(value: string): boolean {
  return value.startsWith(REDACTED_PREFIX);
}

// ---------------------------------------------------------------------------------------------
// Fixed-shape tokens

interface TokenRule {
  readonly kind: string;
  readonly re: RegExp;
}

/** Order matters: Anthropic before OpenAI (both start with `sk-`), specific before generic. */
const TOKEN_RULES: readonly TokenRule[] = [
  { kind: 'anthropic-key', re: /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g },
  {
    kind: 'openai-key',
    re: /(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,}(?![A-Za-z0-9_-]))/g,
  },
  {
    kind: 'aws-access-key-id',
    re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  { kind: 'gcp-api-key', re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g },
  { kind: 'google-oauth-token', re: /(?<![A-Za-z0-9_-])ya29\.[0-9A-Za-z_-]{20,}/g },
  {
    kind: 'azure-client-secret',
    re: /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g,
  },
  {
    kind: 'github-token',
    re: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g,
  },
  {
    kind: 'gitlab-token',
    re: /(?<![A-Za-z0-9_-])(?:gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|oas)-[A-Za-z0-9_-]{20,}|GR1348941[A-Za-z0-9_-]{20,})/g,
  },
  {
    kind: 'slack-token',
    re: /(?<![A-Za-z0-9_-])(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[0-9]+-[A-Za-z0-9-]{10,})/g,
  },
  {
    kind: 'stripe-key',
    re: /(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{20,})/g,
  },
  { kind: 'sendgrid-key', re: /(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g },
  { kind: 'npm-token', re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36,}/g },
  { kind: 'huggingface-token', re: /(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}/g },
  { kind: 'jwt', re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g },
];

/**
 * A private key: BEGIN line, then segments — base64 runs or `Name: value` header lines — separated
 * by whitespace or newlines (real, or escaped `\n` inside JSON), then the END line. Without an END
 * line (a log excerpt cut short) the key runs to the first segment that is neither.
 */
const PEM_SEGMENT = String.raw`(?:[A-Za-z][A-Za-z-]{0,30}:[ \t][^\r\n\\]{0,200}|[A-Za-z0-9+/=]+)`;
const PEM_SEPARATOR = String.raw`(?:\r?\n|\\r|\\n|[ \t])`;
const PEM_RE = new RegExp(
  String.raw`-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----` +
    `${PEM_SEGMENT}?(?:${PEM_SEPARATOR}+${PEM_SEGMENT})*` +
    String.raw`(?:${PEM_SEPARATOR}*-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?`,
  'g',
);

const SLACK_WEBHOOK_RE = /(https:\/\/hooks\.slack\.com\/)(?:services|workflows|triggers)\/[A-Za-z0-9_/-]+/g;
const DISCORD_WEBHOOK_RE = /(https:\/\/(?:discord|discordapp)\.com\/api\/webhooks\/)[0-9]+\/[A-Za-z0-9_-]+/g;

const DB_SCHEMES = new Set([
  'postgres',
  'postgresql',
  'mysql',
  'mariadb',
  'mongodb',
  'mongodb+srv',
  'redis',
  'rediss',
  'amqp',
  'amqps',
  'mssql',
  'sqlserver',
  'clickhouse',
  'cockroachdb',
]);

/** `scheme://user:password@` — the password may contain `@` and `:` (the last `@` before the host wins). */
const URL_CREDENTIALS_RE =
  /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/)([^\s:/?#@"'<>]{0,256}):([^\s/?#"'<>]{1,256})@/g;

const AUTH_HEADER_RE =
  /(?<![A-Za-z0-9_-])((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|x-access-token|private-token|x-goog-api-key|ocp-apim-subscription-key)(\\?["']?[ \t]*[:=][ \t]*\\?["']?)(?:(bearer|basic|digest|token|bot|negotiate|ntlm|aws4-hmac-sha256)([ \t]+))?([^\s"'\\,;]+)/gi;
const COOKIE_HEADER_RE =
  /(?<![A-Za-z0-9_-])(set-cookie|cookie)(\\?["']?[ \t]*[:=][ \t]*\\?["']?)([^\r\n"'\\]+)/gi;
const BEARER_RE = /(?<![A-Za-z0-9_-])(bearer)([ \t]+)([A-Za-z0-9._~+/=-]{8,})/gi;

/** `name` + separator; the value is matched separately (see `redactAssignments`). */
const ASSIGNMENT_NAME_RE =
  /(?<![A-Za-z0-9_.-])(-{0,2}[A-Za-z_][A-Za-z0-9_.-]{0,127})(\\?["']?)[ \t]*([:=])[ \t]*/g;
/** The value: a JSON string, a backslash-escaped JSON string, a single-quoted string, or a bare word. */
const ASSIGNMENT_VALUE_RE =
  /"((?:[^"\\\r\n]|\\.){0,4096})"|\\"((?:[^"\\\r\n]|\\[^"\r\n]){0,4096})\\"|'([^'\r\n]{0,4096})'|([^\s"'`,;&<>(){}[\]\\]{1,4096})/y;

const ENV_JSON_RE =
  /("name"[ \t]*:[ \t]*"([A-Za-z_][A-Za-z0-9_.-]{0,127})"\s*,\s*"value"[ \t]*:[ \t]*")((?:[^"\\\r\n]|\\.){0,4096})"/g;
const ENV_YAML_RE =
  /(?<![A-Za-z0-9_-])(name:[ \t]*(["']?)([A-Za-z_][A-Za-z0-9_.-]{0,127})\2[ \t]*\r?\n[ \t]*value:[ \t]*)([^\r\n]+)/g;

const SECRET_KIND_JSON_RE = /\\?"kind\\?"\s*:\s*\\?"Secret\\?"/;
const SECRET_DATA_JSON_RE = /("(?:data|stringData)"\s*:\s*\{)([^{}]*)\}/g;
const JSON_PAIR_RE = /("(?:[^"\\\r\n]|\\.)*"\s*:\s*)"((?:[^"\\\r\n]|\\.)*)"/g;

// ---------------------------------------------------------------------------------------------
// Passes

function redactTokens(text: string, counts: Counts): string {
  let out = text;
  for (const rule of TOKEN_RULES) {
    rule.re.lastIndex = 0;
    out = out.replace(rule.re, () => {
      bump(counts, rule.kind);
      return marker(rule.kind);
    });
  }
  return out;
}

function redactPem(text: string, counts: Counts): string {
  if (!text.includes('PRIVATE KEY')) return text;
  return text.replace(PEM_RE, () => {
    bump(counts, 'private-key');
    return marker('private-key');
  });
}

/** Kubernetes Secret manifests: every value under `data` / `stringData`, in JSON and in YAML. */
function redactSecretManifests(text: string, counts: Counts): string {
  let out = text;
  if (SECRET_KIND_JSON_RE.test(out)) {
    out = out.replace(SECRET_DATA_JSON_RE, (_m, head: string, body: string) => {
      const inner = body.replace(JSON_PAIR_RE, (p, key: string, value: string) => {
        if (isRedacted(value)) return p;
        bump(counts, 'k8s-secret');
        return `${key}"${marker('k8s-secret')}"`;
      });
      return `${head}${inner}}`;
    });
  }
  if (/^kind:[ \t]*["']?Secret["']?[ \t]*$/m.test(out)) out = redactSecretYaml(out, counts);
  return out;
}

function indentOf(line: string): number {
  let i = 0;
  while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  return i;
}

function redactSecretYaml(text: string, counts: Counts): string {
  const lines = text.split('\n');
  // YAML documents are separated by `---` lines; only those declaring `kind: Secret` are touched.
  let start = 0;
  for (let i = 0; i <= lines.length; i++) {
    if (i === lines.length || /^---/.test(lines[i] ?? '')) {
      redactSecretYamlDocument(lines, start, i, counts);
      start = i + 1;
    }
  }
  return lines.join('\n');
}

function redactSecretYamlDocument(lines: string[], from: number, to: number, counts: Counts): void {
  let isSecret = false;
  for (let i = from; i < to; i++) {
    if (/^kind:[ \t]*["']?Secret["']?[ \t]*\r?$/.test(lines[i] ?? '')) isSecret = true;
  }
  if (!isSecret) return;
  for (let i = from; i < to; i++) {
    const line = lines[i] ?? '';
    const block = /^([ \t]*)(?:data|stringData):[ \t]*\r?$/.exec(line);
    if (block === null) continue;
    const blockIndent = (block[1] ?? '').length;
    let keyIndent = -1;
    let blockScalarToCount = false;
    let j = i + 1;
    for (; j < to; j++) {
      const child = lines[j] ?? '';
      if (child.trim() === '') continue;
      const indent = indentOf(child);
      if (indent <= blockIndent) break;
      if (keyIndent === -1 || indent <= keyIndent) {
        keyIndent = indent;
        blockScalarToCount = false;
        const colon = child.indexOf(':', indent);
        if (colon === -1) continue;
        const value = child.slice(colon + 1).trim();
        if (value === '' || /^[|>][-+0-9]*$/.test(value)) {
          // A block scalar: its deeper lines are the value (counted once).
          blockScalarToCount = value !== '';
          continue;
        }
        if (isRedacted(value)) continue;
        lines[j] = `${child.slice(0, colon + 1)} ${marker('k8s-secret')}`;
        bump(counts, 'k8s-secret');
      } else if (!isRedacted(child.trim())) {
        // A continuation line of a block scalar.
        lines[j] = `${child.slice(0, indent)}${marker('k8s-secret')}`;
        if (blockScalarToCount) bump(counts, 'k8s-secret');
        blockScalarToCount = false;
      }
    }
    i = j - 1;
  }
}

function redactEnvPairs(text: string, counts: Counts): string {
  let out = text;
  if (out.includes('"value"')) {
    out = out.replace(ENV_JSON_RE, (m, head: string, name: string, value: string) => {
      if (!secretEnvName(name) || NOT_A_VALUE.has(value) || isRedacted(value)) return m;
      bump(counts, 'env-secret');
      return `${head}${marker('env-secret')}"`;
    });
  }
  if (out.includes('value:')) {
    out = out.replace(ENV_YAML_RE, (m, head: string, _q: string, name: string, value: string) => {
      const v = value.trim().replace(/^["']|["']$/g, '');
      if (!secretEnvName(name) || NOT_A_VALUE.has(v) || isRedacted(v) || /^valueFrom\b/.test(v)) return m;
      bump(counts, 'env-secret');
      return `${head}${marker('env-secret')}`;
    });
  }
  return out;
}

function redactWebhooks(text: string, counts: Counts): string {
  let out = text;
  if (out.includes('hooks.slack.com')) {
    out = out.replace(SLACK_WEBHOOK_RE, (_m, head: string) => {
      bump(counts, 'slack-webhook');
      return `${head}${marker('slack-webhook')}`;
    });
  }
  if (out.includes('/api/webhooks/')) {
    out = out.replace(DISCORD_WEBHOOK_RE, (_m, head: string) => {
      bump(counts, 'webhook');
      return `${head}${marker('webhook')}`;
    });
  }
  return out;
}

function redactUrlCredentials(text: string, counts: Counts): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_CREDENTIALS_RE, (m, scheme: string, user: string, password: string) => {
    if (`${user}:${password}`.includes(REDACTED_PREFIX)) return m;
    const kind = DB_SCHEMES.has(scheme.slice(0, -3).toLowerCase()) ? 'db-credentials' : 'url-credentials';
    bump(counts, kind);
    return `${scheme}${marker(kind)}@`;
  });
}

function redactHeaders(text: string, counts: Counts): string {
  let out = text.replace(
    AUTH_HEADER_RE,
    (m, name: string, sep: string, scheme: string | undefined, gap: string | undefined, value: string) => {
      if (isRedacted(value)) return m;
      bump(counts, 'authorization');
      return `${name}${sep}${scheme ?? ''}${gap ?? ''}${marker('authorization')}`;
    },
  );
  out = out.replace(COOKIE_HEADER_RE, (m, name: string, sep: string, value: string) => {
    if (value.trim() === '' || isRedacted(value)) return m;
    bump(counts, 'cookie');
    return `${name}${sep}${marker('cookie')}`;
  });
  out = out.replace(BEARER_RE, (m, word: string, gap: string, token: string) => {
    if (!looksSecret(token)) return m;
    bump(counts, 'bearer-token');
    return `${word}${gap}${marker('bearer-token')}`;
  });
  return out;
}

/** `password=…`, `"apiKey": "…"`, `token: …`, `?access_token=…`, `AccountKey=…;` and the like. */
function redactAssignments(text: string, counts: Counts): string {
  const re = new RegExp(ASSIGNMENT_NAME_RE.source, 'g');
  const valueRe = new RegExp(ASSIGNMENT_VALUE_RE.source, 'y');
  let out = '';
  let copied = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const name = m[1] ?? '';
    const afterName = m.index + name.length;
    const kind = secretNameKind(name);
    if (kind === null) {
      re.lastIndex = afterName;
      continue;
    }
    const valueStart = m.index + m[0].length;
    valueRe.lastIndex = valueStart;
    const v = valueRe.exec(text);
    if (v === null) {
      re.lastIndex = afterName;
      continue;
    }
    const quoted = v[1] ?? v[2] ?? v[3];
    const value = quoted ?? v[4] ?? '';
    const colonProse = m[3] === ':' && quoted === undefined && kind !== 'password';
    if (NOT_A_VALUE.has(value.toLowerCase()) || isRedacted(value) || (colonProse && !looksSecret(value))) {
      re.lastIndex = afterName;
      continue;
    }
    bump(counts, kind);
    const open = v[1] !== undefined ? '"' : v[2] !== undefined ? '\\"' : v[3] !== undefined ? "'" : '';
    out += text.slice(copied, valueStart) + open + marker(kind) + open;
    copied = valueStart + v[0].length;
    re.lastIndex = copied;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Replaces every secret in `text` by `[REDACTED:<kind>]` (private keys, Kubernetes Secret data,
 * cloud/VCS/chat/payment tokens, JWTs, credentials in URLs and connection strings, Authorization
 * and Cookie values, `password=`-style pairs). Pure and linear-time.
 */
export function redact(text: string): RedactionResult {
  const counts: Counts = new Map();
  let out = redactPem(text, counts);
  out = redactSecretManifests(out, counts);
  out = redactEnvPairs(out, counts);
  out = redactTokens(out, counts);
  out = redactWebhooks(out, counts);
  out = redactUrlCredentials(out, counts);
  out = redactHeaders(out, counts);
  out = redactAssignments(out, counts);
  return { text: out, findings: findingsOf(counts) };
}

export interface RedactedValue<T> {
  readonly value: T;
  readonly findings: RedactionFinding[];
}

/** Objects walked by their own enumerable properties: plain ones and record instances (avsc). */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return !(
    v instanceof Date ||
    v instanceof Map ||
    v instanceof Set ||
    ArrayBuffer.isView(v) ||
    v instanceof ArrayBuffer
  );
}

function redactDeep(value: unknown, counts: Counts): unknown {
  if (typeof value === 'string') {
    const r = redact(value);
    for (const f of r.findings) bump(counts, f.kind, f.count);
    return r.text;
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, counts));
  if (!isPlainObject(value)) return value;
  const isSecretObject = value['kind'] === 'Secret';
  const envName =
    typeof value['name'] === 'string' && typeof value['value'] === 'string' ? value['name'] : null;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (isSecretObject && (key === 'data' || key === 'stringData') && isPlainObject(v)) {
      const data: Record<string, unknown> = {};
      for (const dataKey of Object.keys(v)) {
        data[dataKey] = marker('k8s-secret');
        bump(counts, 'k8s-secret');
      }
      out[key] = data;
      continue;
    }
    if (typeof v === 'string' && !isRedacted(v) && !NOT_A_VALUE.has(v.toLowerCase())) {
      if (key === 'value' && envName !== null && secretEnvName(envName)) {
        out[key] = marker('env-secret');
        bump(counts, 'env-secret');
        continue;
      }
      const kind = secretNameKind(key);
      if (kind !== null) {
        out[key] = marker(kind);
        bump(counts, kind);
        continue;
      }
    }
    out[key] = redactDeep(v, counts);
  }
  return out;
}

/**
 * `redact` applied to every string of a JSON-like value, plus what only structure shows: the
 * values of secret-named keys (`{"password": "…"}`), env entries `{name: DB_PASSWORD, value}`,
 * and the `data` / `stringData` of a `kind: Secret` object. Returns a new value (objects, record
 * instances included, become plain objects); the input is not changed. Non-string scalars
 * (numbers, bigints, booleans), dates, maps, sets and byte arrays are kept as they are.
 */
export function redactValue<T>(value: T): RedactedValue<T> {
  const counts: Counts = new Map();
  const out = redactDeep(value, counts) as T;
  return { value: out, findings: findingsOf(counts) };
}

/** Adds `b`'s counts to `a`'s, sorted by kind. */
export function mergeFindings(
  a: readonly RedactionFinding[],
  b: readonly RedactionFinding[],
): RedactionFinding[] {
  const counts: Counts = new Map();
  for (const f of a) bump(counts, f.kind, f.count);
  for (const f of b) bump(counts, f.kind, f.count);
  return findingsOf(counts);
}
