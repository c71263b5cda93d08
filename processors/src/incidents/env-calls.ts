/**
 * Call edges from a pod template's environment (docs/incidents.md "Calls named in the pod
 * template"): an application is usually told where its dependencies are in its env —
 * `LEDGER_URL=http://ledger.payments.svc:8080`, `REDIS_HOST=redis`, `DB=postgres.data:5432`. These
 * name the Services a workload calls before any log line does, so its first failure can join the
 * incident of the dependency it waits on.
 *
 * Pure: what a template's env names, not what it resolves to (the incidents processor resolves a
 * name to a workload when it uses the edge: the callee's template may be seen later).
 */

/** A Service a template's env names. */
export interface EnvDependency {
  readonly namespace: string;
  readonly name: string;
  /**
   * Named as `<service>.<namespace>.svc[.cluster.local]`: a Service for certain. Otherwise (a
   * bare `<service>` or `<service>.<namespace>` host) it counts only when a workload of that name
   * is known in that namespace: `api.example` or `db` may be anything.
   */
  readonly qualified: boolean;
}

/** The env entries of a container as the API serves them (only literal `value`s are read). */
export interface EnvContainer {
  readonly env?: readonly { readonly name?: string; readonly value?: string }[];
}

/** At most this many dependencies per template (a bound: env is user-controlled text). */
export const MAX_ENV_DEPENDENCIES = 32;
/** Values longer than this are not read (certificates, JSON blobs). */
const MAX_VALUE_LENGTH = 2048;

const LABEL = '[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?';
const QUALIFIED = new RegExp(
  `(?<![-a-z0-9])(${LABEL})\\.(${LABEL})\\.svc(?:\\.cluster\\.local)?(?![-a-z0-9])`,
  'g',
);
/** `[scheme://][user[:password]@]host[:port][/path]`, the host of one or two DNS labels. */
const HOST = new RegExp(
  `^(?:([a-z][a-z0-9+.:-]*)://)?(?:[^@/\\s]*@)?(${LABEL})(?:\\.(${LABEL}))?(:\\d{1,5})?(?:[/?#].*)?$`,
);
/** Env names whose plain value is a host. */
const HOST_NAME = /(?:HOST|HOSTNAME|ADDR|ADDRESS|SERVER|ENDPOINT|URL|URI)(?:E?S)?$/;

/**
 * The Services named in the env of `containers` (a template's containers and init containers), in
 * the order first named, for a workload in `namespace`. A value counts when it is, or holds, a
 * `<service>.<namespace>.svc` name; or, split at commas, semicolons and spaces, a part is a URL
 * (`scheme://host…`), a `host:port`, or a plain host in a variable whose name ends in HOST,
 * HOSTNAME, ADDR, ADDRESS, SERVER, ENDPOINT, URL or URI (and their plurals). `localhost` and
 * all-digit labels (addresses) never count.
 */
export function envDependencies(containers: readonly EnvContainer[], namespace: string): EnvDependency[] {
  const out: EnvDependency[] = [];
  const seen = new Set<string>();
  const add = (name: string, ns: string, qualified: boolean) => {
    if (name === 'localhost' || /^\d+$/.test(name) || /^\d+$/.test(ns)) return;
    const k = ns + '/' + name;
    if (seen.has(k)) {
      // A name seen plain and then qualified: qualified wins.
      if (qualified) {
        const i = out.findIndex((d) => d.namespace === ns && d.name === name);
        if (i >= 0 && !out[i]!.qualified) out[i] = { namespace: ns, name, qualified };
      }
      return;
    }
    if (out.length >= MAX_ENV_DEPENDENCIES) return;
    seen.add(k);
    out.push({ namespace: ns, name, qualified });
  };
  for (const c of containers)
    for (const e of c.env ?? []) {
      const value = e.value;
      if (typeof value !== 'string' || value === '' || value.length > MAX_VALUE_LENGTH) continue;
      const text = value.toLowerCase();
      let qualified = false;
      for (const m of text.matchAll(QUALIFIED)) {
        qualified = true;
        add(m[1]!, m[2]!, true);
      }
      if (qualified) continue;
      const hostNamed = HOST_NAME.test((e.name ?? '').toUpperCase());
      for (const part of text.split(/[\s,;]+/)) {
        const m = HOST.exec(part);
        if (m === null) continue;
        const [, scheme, name, ns, port] = m;
        if (
          scheme === undefined &&
          port === undefined &&
          !(hostNamed && part === (ns ? name + '.' + ns : name))
        )
          continue;
        add(name!, ns ?? namespace, false);
      }
    }
  return out;
}
