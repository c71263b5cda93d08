/**
 * Online template clustering on top of token masking (Drain-like: He et al., "Drain: An
 * Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017), with a different similarity.
 *
 * - A line (its masked tokens) goes to a leaf chosen by its partition (the level), its token
 *   count and its first two tokens (placeholders as `<*>`; the last token never chooses, so
 *   short lines can still merge).
 * - In the leaf it joins the best cluster it is compatible with, else it starts a new one.
 *   Per position a token is equal, under a generalised position, or differs by a variable
 *   (VAR), identifier-like data (SOFT) or plain text (WORD) — see {@link diffKind}. A WORD
 *   difference never joins: differing message text means a different log statement (this is
 *   where Drain's plain share-of-equal-tokens threshold merges `initialization.` with
 *   `finalization.`). At most two SOFT differences join, and only when at least 60 % of the
 *   positions are exactly equal. At least one position must be exactly equal.
 * - Joining generalises the differing positions to `<*>` (keeping what the values share up to
 *   a delimiter, `ws=<*>,`); the cluster keeps its id, the hash of the level and its first
 *   template, so a fingerprint never changes once given.
 *
 * One pass, one line at a time, deterministic (same input order → same clusters and ids: ties
 * go to the oldest cluster) and bounded: at most `maxClusters` clusters (the least recently
 * used is evicted) and `maxLeafClusters` per leaf. The state is serialisable (`toJSON` /
 * `fromJSON`) so that a processor can restore it from a changelog.
 */
import { hash64 } from './hash.ts';
import { PH } from './mask.ts';

export interface MinerOptions {
  /** How many leading tokens choose the leaf (besides the partition and the token count). */
  prefixDepth: number;
  /** Most positions where identifier-like data may differ (`com.a.B` vs `com.c.D`). */
  maxSoftDiff: number;
  /** With such differences, the minimum share of positions that are exactly equal. */
  softSim: number;
  /** Most clusters kept in all; the least recently used is evicted beyond it. */
  maxClusters: number;
  /** Most clusters kept in one leaf; the least recently used of the leaf is evicted beyond it. */
  maxLeafClusters: number;
}

/** The one configuration used for every data set. */
export const DEFAULT_MINER_OPTIONS: MinerOptions = {
  prefixDepth: 2,
  maxSoftDiff: 2,
  softSim: 0.6,
  maxClusters: 10_000,
  maxLeafClusters: 200,
};

interface Cluster {
  id: string;
  partition: string;
  /** The leaf's prefix key (leading tokens, variables as `<*>`). */
  prefix: string;
  /** The template's tokens; a generalised position shows what its values share (`ws=<*>,`). */
  tokens: string[];
  /** Generalised positions: they accept any token. */
  wild: boolean[];
  template: string;
  count: number;
  /** Creation order: ties are broken by it and leaves are rebuilt in it. */
  created: number;
  /** Use order (a tick), for least-recently-used eviction. */
  used: number;
  /** The leaf that holds the cluster. */
  leaf: Cluster[];
  /** Neighbours in the use list (least recently used first). */
  older: Cluster | undefined;
  newer: Cluster | undefined;
}

export interface ClusterMatch {
  id: string;
  template: string;
  /** True when the line created the cluster. */
  created: boolean;
}

export interface ClusterSnapshot {
  id: string;
  partition: string;
  prefix: string;
  tokens: string[];
  /** Indices of the generalised positions. */
  wild: number[];
  count: number;
  created: number;
}

export interface MinerSnapshot {
  version: 1;
  options: MinerOptions;
  seq: number;
  /** Least recently used first. */
  clusters: ClusterSnapshot[];
}

const WILD = PH.any;

function hasVar(tok: string): boolean {
  return tok.indexOf('<') >= 0 && tok.indexOf('>') > 0;
}

/** A word after one of these words is a name (a user name), not message text. */
const NAME_KEYS = new Set(['user', 'User', 'USER', 'username', 'Username', 'userName']);

const VAR = 1;
const SOFT = 2;
const WORD = 3;

/**
 * How two different tokens at the same position differ, judged on the differing part widened
 * to its whole field:
 * - VAR: only variables (placeholders, punctuation) on both sides, or a variable on one side
 *   and a value word (`null`, `true`, `ffffffff`) on the other;
 * - SOFT: identifier-like data (`com.a.B` vs `com.c.D`, `root_domain`, `a/b`, `x$y`, `u@h`),
 *   also against a variable;
 * - WORD: plain text on one side at least (`initialization.` vs `finalization.`, `root` vs
 *   `guest`, `<ip>` vs `localhost`, a different `key=`).
 */
function diffKind(t: string, x: string): number {
  const tl = t.length;
  const xl = x.length;
  let p = 0;
  const max = Math.min(tl, xl);
  while (p < max && t.charCodeAt(p) === x.charCodeAt(p)) p++;
  let q = 0;
  while (q < max - p && t.charCodeAt(tl - 1 - q) === x.charCodeAt(xl - 1 - q)) q++;
  // Widen the difference to the whole field around it (`com.tencent.mm` vs `com.tencent.mobileqq`).
  while (p > 0 && isFieldChar(t.charCodeAt(p - 1))) p--;
  while (q > 0 && isFieldChar(t.charCodeAt(tl - q))) q--;
  const ct = constantText(t, p, tl - q);
  const cx = constantText(x, p, xl - q);
  if (ct === 0 && cx === 0) return VAR;
  if (ct === 0 || cx === 0) {
    // A variable on one side, text on the other: identifier-like data may be the same
    // variable (SOFT); a value word (`null`, `true`, `ffffffff`) is; a plain word is not.
    const other = ct === 0 ? cx : ct;
    if (other === 2) return SOFT;
    return ct === 0 ? (valueWord(x, p, xl - q) ? VAR : WORD) : valueWord(t, p, tl - q) ? VAR : WORD;
  }
  return ct === 2 || cx === 2 ? SOFT : WORD;
}

/** Words that are values, not message text: a slot that holds numbers may hold these. */
const VALUE_WORDS = new Set([
  'null',
  'nil',
  'none',
  'true',
  'false',
  'undefined',
  'yes',
  'no',
  'on',
  'off',
  'unknown',
  'empty',
  'nan',
  'inf',
  'n/a',
]);

/** A value word, or hex letters only (`ffffffff`, six or more). */
function valueWord(s: string, from: number, to: number): boolean {
  let a = from;
  let b = to;
  while (a < b && !isAlnum(s.charCodeAt(a))) a++;
  while (b > a && !isAlnum(s.charCodeAt(b - 1))) b--;
  const w = s.slice(a, b).toLowerCase();
  if (VALUE_WORDS.has(w)) return true;
  if (w.length < 6) return false;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c < 97 || c > 102) return false;
  }
  return true;
}

/** Is `c` part of a field: letters, digits, `. _ $ / \ @ -` and placeholder brackets. */
function isFieldChar(c: number): boolean {
  return (
    isAlnum(c) ||
    c === 46 ||
    c === 95 ||
    c === 36 ||
    c === 47 ||
    c === 92 ||
    c === 64 ||
    c === 45 ||
    c === 60 ||
    c === 62 ||
    c === 42
  );
}

/**
 * What is left of s[from, to) without placeholders: 0 no letter (only variables or
 * punctuation), 2 identifier-like (a `. _ / \ $ @` between letters or digits), 1 plain text
 * (also when a `key=` differs: keys are message text).
 */
function constantText(s: string, from: number, to: number): number {
  let letters = false;
  let ident = false;
  let prevAlnum = false;
  // The next `>` at or after i (searched once per `<` that needs it: linear overall).
  let gt = -2;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 60) {
      if (gt !== -1 && gt < i) gt = s.indexOf('>', i);
      if (gt > 0 && gt < to) {
        i = gt;
        prevAlnum = false;
        continue;
      }
    }
    if (isAlnum(c)) {
      letters = true;
      prevAlnum = true;
      continue;
    }
    // A differing `key=`: the keys are message text.
    if (c === 61 && letters) return 1;
    if (prevAlnum && i + 1 < to && isAlnum(s.charCodeAt(i + 1)) && isIdentSep(c)) ident = true;
    prevAlnum = false;
  }
  return !letters ? 0 : ident ? 2 : 1;
}

function isIdentSep(c: number): boolean {
  return c === 46 || c === 95 || c === 47 || c === 92 || c === 36 || c === 64;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * The generalisation of two different tokens: what they share up to a delimiter on either
 * side is kept (`ws=17,` and `ws=null,` → `ws=<*>,`), the rest becomes `<*>`.
 */
function generalise(t: string, x: string): string {
  const tl = t.length;
  const xl = x.length;
  const max = Math.min(tl, xl);
  let p = 0;
  while (p < max && t.charCodeAt(p) === x.charCodeAt(p)) p++;
  let q = 0;
  while (q < max - p && t.charCodeAt(tl - 1 - q) === x.charCodeAt(xl - 1 - q)) q++;
  while (p > 0 && isFieldChar(t.charCodeAt(p - 1))) p--;
  while (q > 0 && isFieldChar(t.charCodeAt(tl - q))) q--;
  if (p === 0 && q === 0) return WILD;
  return t.slice(0, p) + WILD + t.slice(tl - q);
}

function wildFlags(n: number, indices: readonly number[]): boolean[] {
  const w = new Array<boolean>(n).fill(false);
  for (const i of indices) if (i >= 0 && i < n) w[i] = true;
  return w;
}

export class TemplateMiner {
  readonly options: MinerOptions;
  /** partition → token count → prefix key → leaf (clusters in creation order). */
  private readonly tree = new Map<string, Map<number, Map<string, Cluster[]>>>();
  private readonly byId = new Map<string, Cluster>();
  /** Least and most recently used clusters (a doubly linked list through the clusters). */
  private oldest: Cluster | undefined;
  private newest: Cluster | undefined;
  private seq = 0;
  private tick = 0;

  constructor(options: Partial<MinerOptions> = {}) {
    this.options = { ...DEFAULT_MINER_OPTIONS, ...options };
  }

  /** Number of clusters held. */
  get size(): number {
    return this.byId.size;
  }

  /** Adds a masked line in `partition` (e.g. the level) and returns its cluster. */
  add(partition: string, tokens: readonly string[]): ClusterMatch {
    const prefix = this.prefixKey(tokens);
    const leaf = this.leafFor(partition, tokens.length, prefix, true) as Cluster[];
    const best = this.best(leaf, tokens);
    if (best !== undefined) {
      this.merge(best, tokens);
      best.count++;
      this.touch(best);
      return { id: best.id, template: best.template, created: false };
    }
    const text = tokens.join(' ');
    let id = hash64(partition + '\u0000' + text);
    // A cluster whose template was generalised may still hold this id: derive a fresh one.
    for (let salt = 1; this.byId.has(id); salt++) id = hash64(partition + '\u0000' + text + '\u0000' + salt);
    const c: Cluster = {
      id,
      partition,
      prefix,
      tokens: tokens.slice(),
      wild: new Array<boolean>(tokens.length).fill(false),
      template: text,
      count: 1,
      created: this.seq++,
      used: 0,
      leaf,
      older: undefined,
      newer: undefined,
    };
    this.insert(c);
    if (leaf.length > this.options.maxLeafClusters) {
      // Evict the least recently used cluster of this leaf (not the one just made).
      let victim: Cluster | undefined;
      for (const x of leaf) if (x !== c && (victim === undefined || x.used < victim.used)) victim = x;
      if (victim !== undefined) this.remove(victim);
    }
    while (this.byId.size > this.options.maxClusters && this.oldest !== undefined && this.oldest !== c) {
      this.remove(this.oldest);
    }
    return { id, template: text, created: true };
  }

  private prefixKey(tokens: readonly string[]): string {
    // The last token never chooses the leaf, so lines of one or two tokens can still merge.
    const depth = Math.min(this.options.prefixDepth, tokens.length - 1);
    if (depth <= 0) return '';
    const t0 = tokens[0] as string;
    let key = hasVar(t0) ? WILD : t0;
    for (let i = 1; i < depth; i++) {
      const t = tokens[i] as string;
      key += '\u0001' + (hasVar(t) ? WILD : t);
    }
    return key;
  }

  private leafFor(partition: string, length: number, prefix: string, create: boolean): Cluster[] | undefined {
    let byLen = this.tree.get(partition);
    if (byLen === undefined) {
      if (!create) return undefined;
      byLen = new Map();
      this.tree.set(partition, byLen);
    }
    let byPrefix = byLen.get(length);
    if (byPrefix === undefined) {
      if (!create) return undefined;
      byPrefix = new Map();
      byLen.set(length, byPrefix);
    }
    let leaf = byPrefix.get(prefix);
    if (leaf === undefined) {
      if (!create) return undefined;
      leaf = [];
      byPrefix.set(prefix, leaf);
    }
    return leaf;
  }

  /**
   * The best cluster of the leaf for `tokens`, or undefined. Per position a token is equal,
   * under a wildcard, or differs by a variable (VAR), by identifier-like data (SOFT) or by
   * plain text (WORD). A WORD difference never joins: message text that differs makes another
   * template. SOFT differences join when few and when enough positions are exactly equal.
   */
  private best(leaf: Cluster[], tokens: readonly string[]): Cluster | undefined {
    let best: Cluster | undefined;
    let bestScore = -Infinity;
    const n = tokens.length;
    const o = this.options;
    for (const c of leaf) {
      let eq = 0;
      let wild = 0;
      let vdiff = 0;
      let sdiff = 0;
      let word = false;
      const tpl = c.tokens;
      const w = c.wild;
      for (let i = 0; i < n; i++) {
        const t = tpl[i] as string;
        const x = tokens[i] as string;
        if (w[i] === true) {
          if (x === WILD) eq++;
          else wild++;
        } else if (t === x) eq++;
        else {
          const k = i > 0 && NAME_KEYS.has(tpl[i - 1] as string) ? VAR : diffKind(t, x);
          if (k === VAR) vdiff++;
          else if (k === SOFT) {
            if (++sdiff > o.maxSoftDiff) break; // cannot join any more
          } else {
            word = true;
            break;
          }
        }
      }
      if (word || sdiff > o.maxSoftDiff) continue;
      if (n > 0) {
        // At least one position must be exactly equal: a template of wildcards absorbs nothing.
        if (eq === 0) continue;
        if (sdiff > 0 && eq / n < o.softSim) continue;
      }
      const score = eq * 4 + wild * 2 + vdiff - sdiff * 8;
      if (score > bestScore) {
        best = c;
        bestScore = score;
      }
    }
    return best;
  }

  private merge(c: Cluster, tokens: readonly string[]): void {
    const tpl = c.tokens;
    let changed = false;
    for (let i = 0; i < tpl.length; i++) {
      const t = tpl[i] as string;
      const x = tokens[i] as string;
      if (t === x) continue;
      if (c.wild[i] === true) {
        if (t === WILD) continue;
        const g = generalise(t, x);
        if (g !== t) {
          tpl[i] = g;
          changed = true;
        }
        continue;
      }
      tpl[i] = generalise(t, x);
      c.wild[i] = true;
      changed = true;
    }
    if (changed) c.template = tpl.join(' ');
  }

  /** Appends a new cluster to its leaf and as the most recently used. */
  private insert(c: Cluster): void {
    c.leaf.push(c);
    this.byId.set(c.id, c);
    c.used = ++this.tick;
    c.older = this.newest;
    c.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = c;
    else this.oldest = c;
    this.newest = c;
  }

  private touch(c: Cluster): void {
    c.used = ++this.tick;
    if (this.newest === c) return;
    this.unlink(c);
    c.older = this.newest;
    if (this.newest !== undefined) this.newest.newer = c;
    else this.oldest = c;
    this.newest = c;
  }

  private unlink(c: Cluster): void {
    if (c.older !== undefined) c.older.newer = c.newer;
    else this.oldest = c.newer;
    if (c.newer !== undefined) c.newer.older = c.older;
    else this.newest = c.older;
    c.older = undefined;
    c.newer = undefined;
  }

  private remove(c: Cluster): void {
    this.unlink(c);
    this.byId.delete(c.id);
    const i = c.leaf.indexOf(c);
    if (i >= 0) c.leaf.splice(i, 1);
    if (c.leaf.length === 0) this.tree.get(c.partition)?.get(c.tokens.length)?.delete(c.prefix);
  }

  toJSON(): MinerSnapshot {
    const clusters: ClusterSnapshot[] = [];
    for (let c = this.oldest; c !== undefined; c = c.newer) {
      clusters.push({
        id: c.id,
        partition: c.partition,
        prefix: c.prefix,
        tokens: c.tokens.slice(),
        wild: c.wild.flatMap((w, i) => (w ? [i] : [])),
        count: c.count,
        created: c.created,
      });
    }
    return { version: 1, options: { ...this.options }, seq: this.seq, clusters };
  }

  static fromJSON(snap: MinerSnapshot): TemplateMiner {
    const m = new TemplateMiner(snap.options);
    m.seq = snap.seq;
    const all: Cluster[] = [];
    for (const s of snap.clusters) {
      const leaf = m.leafFor(s.partition, s.tokens.length, s.prefix, true) as Cluster[];
      const c: Cluster = {
        id: s.id,
        partition: s.partition,
        prefix: s.prefix,
        tokens: s.tokens.slice(),
        wild: wildFlags(s.tokens.length, s.wild),
        template: s.tokens.join(' '),
        count: s.count,
        created: s.created,
        used: 0,
        leaf,
        older: undefined,
        newer: undefined,
      };
      all.push(c);
      // Snapshot order is use order: rebuild the use list and ticks in it.
      m.byId.set(c.id, c);
      c.used = ++m.tick;
      c.older = m.newest;
      if (m.newest !== undefined) m.newest.newer = c;
      else m.oldest = c;
      m.newest = c;
    }
    // Leaves hold their clusters in creation order.
    all.sort((a, b) => a.created - b.created);
    for (const c of all) c.leaf.push(c);
    return m;
  }
}
