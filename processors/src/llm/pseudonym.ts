/**
 * Optional pseudonymisation of the names in a prompt (issue D: "optional pseudonymisation of
 * names, reversed in the answer"): namespaces, workloads, pods and nodes are replaced by tokens
 * (`ns-1`, `wl-1`, `pod-1`, `node-1`) before anything leaves, and the tokens in the answer are
 * replaced back before it is stored. Pure: the same names give the same tokens.
 */

export interface Pseudonym {
  readonly token: string;
  readonly name: string;
}

export type NameKind = 'namespace' | 'workload' | 'pod' | 'node';

const PREFIX: Record<NameKind, string> = { namespace: 'ns', workload: 'wl', pod: 'pod', node: 'node' };

/** Names that say nothing about the user's systems and are common words: never replaced. */
const KEEP = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

/** A character that may be part of a Kubernetes name (so a name must not touch one). */
const NAME_CHAR = /[A-Za-z0-9_-]/;

/**
 * The table of tokens for a set of names: per kind, names sorted, numbered from 1. A name given
 * under two kinds keeps the first kind in the order namespace, node, pod, workload. Names shorter
 * than 3 characters and the system namespaces are left as they are.
 */
export function pseudonymTable(names: readonly { kind: NameKind; name: string }[]): Pseudonym[] {
  const byName = new Map<string, NameKind>();
  const order: NameKind[] = ['namespace', 'node', 'pod', 'workload'];
  for (const kind of order)
    for (const n of names)
      if (n.kind === kind && n.name.length >= 3 && !KEEP.has(n.name) && !byName.has(n.name))
        byName.set(n.name, kind);
  const out: Pseudonym[] = [];
  for (const kind of order) {
    const list = [...byName].filter(([, k]) => k === kind).map(([n]) => n);
    list.sort();
    list.forEach((name, i) => out.push({ token: `${PREFIX[kind]}-${i + 1}`, name }));
  }
  return out;
}

/** Replaces whole-name occurrences of `from` by `to` (longest `from` first, one pass). */
function replaceAll(text: string, pairs: readonly [string, string][]): string {
  if (pairs.length === 0 || text === '') return text;
  const sorted = [...pairs].sort((a, b) => b[0].length - a[0].length || (a[0] < b[0] ? -1 : 1));
  const escaped = sorted.map(([f]) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(escaped.join('|'), 'g');
  const map = new Map(sorted);
  return text.replace(re, (m, offset: number) => {
    const before = offset > 0 ? text[offset - 1]! : '';
    const after = text[offset + m.length] ?? '';
    if ((before !== '' && NAME_CHAR.test(before)) || (after !== '' && NAME_CHAR.test(after))) return m;
    return map.get(m) ?? m;
  });
}

/** The text with every name of the table replaced by its token. */
export function pseudonymize(text: string, table: readonly Pseudonym[]): string {
  return replaceAll(
    text,
    table.map((p) => [p.name, p.token]),
  );
}

/** The text with every token of the table replaced by its name (the answer, before it is stored). */
export function reveal(text: string, table: readonly Pseudonym[]): string {
  return replaceAll(
    text,
    table.map((p) => [p.token, p.name]),
  );
}

/** `reveal` on every string of a JSON-like value. */
export function revealValue<T>(value: T, table: readonly Pseudonym[]): T {
  if (table.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return reveal(v, table);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
