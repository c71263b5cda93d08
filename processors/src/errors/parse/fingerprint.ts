/**
 * SPEC §4 fingerprint and template.
 *
 * - With a stack (at least one frame parsed): hash of the exception type and the innermost
 *   {@link TOP_FRAMES} frames, normalised (line numbers, addresses, generated names and lambda
 *   ids removed). The level is not part of it.
 * - Without: the level (after raising, see `detect`) and the message's template.
 *   {@link fingerprint} is the stateless form (template = masked tokens);
 *   {@link Fingerprinter} adds online clustering of templates (see `cluster.ts`): the
 *   fingerprint is the id of the line's cluster, which keeps its first id when its template
 *   is generalised.
 */
import { TemplateMiner } from './cluster.ts';
import type { MinerOptions, MinerSnapshot } from './cluster.ts';
import { detect } from './detect.ts';
import type { Detection } from './detect.ts';
import { hash64 } from './hash.ts';
import type { Level } from './levels.ts';
import { maskTokens } from './mask.ts';
import type { ParsedLine } from './parse.ts';
import { exceptionHeader } from './stack.ts';

export interface FingerprintResult {
  /** Stable hex id (16 hex digits). */
  fingerprint: string;
  template: string;
  exceptionType?: string;
  /** The normalised frames of a stack fingerprint, innermost first. */
  frames?: string[];
}

/** Most tokens of a message that take part in its template; more become one `<…>` token. */
export const MAX_TEMPLATE_TOKENS = 512;

/**
 * Longest token of a template: a longer one keeps its first this many characters and ends in
 * `<…>`. The clustering compares differing tokens character by character against up to 200
 * templates of a leaf, so without this cap a line of one long token (a blob, a run of bait) of
 * thousands of characters cost ~30 ms instead of microseconds. No loghub-2k token is this long.
 */
export const MAX_TEMPLATE_TOKEN_CHARS = 256;

function capToken(t: string): string {
  if (t.length <= MAX_TEMPLATE_TOKEN_CHARS) return t;
  let end = MAX_TEMPLATE_TOKEN_CHARS;
  const c = t.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--; // never split a surrogate pair
  return t.slice(0, end) + '<…>';
}

/** The text a stackless fingerprint is made from: the message and the error field. */
export function messageText(p: ParsedLine): string {
  if (p.error !== undefined && p.error !== p.message && p.message.length > 0)
    return p.message + ' ' + p.error;
  return p.message.length > 0 ? p.message : (p.error ?? '');
}

/**
 * The masked tokens of a parsed line's message, capped at {@link MAX_TEMPLATE_TOKENS} tokens of
 * at most {@link MAX_TEMPLATE_TOKEN_CHARS} characters.
 */
export function templateTokens(p: ParsedLine): string[] {
  const tokens = maskTokens(messageText(p));
  const capped = tokens.length <= MAX_TEMPLATE_TOKENS ? tokens : tokens.slice(0, MAX_TEMPLATE_TOKENS);
  for (let i = 0; i < capped.length; i++) capped[i] = capToken(capped[i]!);
  if (capped.length < tokens.length) capped.push('<…>');
  return capped;
}

function stackResult(p: ParsedLine, d: Detection): FingerprintResult | undefined {
  const st = d.stack;
  if (st === undefined || st.frames.length === 0) return undefined;
  const type = st.exceptionType ?? p.errorType ?? st.lang ?? 'stack';
  const frames = st.frames;
  return {
    fingerprint: hash64('s\u0000' + type + '\u0000' + frames.join('\u0000')),
    template: type + ' at ' + frames.join(' < '),
    exceptionType: type,
    frames: frames.slice(),
  };
}

function typeOf(p: ParsedLine): string | undefined {
  return (
    p.errorType ??
    exceptionHeader(p.message) ??
    (p.error !== undefined ? exceptionHeader(p.error) : undefined)
  );
}

/** Stateless fingerprint: a stack fingerprint, or level + masked template. */
export function fingerprint(parsed: ParsedLine, detection?: Detection): FingerprintResult {
  const d = detection ?? detect(parsed);
  const s = stackResult(parsed, d);
  if (s !== undefined) return s;
  const template = templateTokens(parsed).join(' ');
  const r: FingerprintResult = { fingerprint: hash64('m\u0000' + d.level + '\u0000' + template), template };
  const t = d.kind === 'none' ? undefined : typeOf(parsed);
  if (t !== undefined) r.exceptionType = t;
  return r;
}

export interface FingerprinterSnapshot {
  version: 1;
  miner: MinerSnapshot;
}

/**
 * The stateful fingerprinter of an error processor: online, deterministic (same input order →
 * same fingerprints), bounded (see {@link MinerOptions}), and serialisable to JSON so that it
 * can be restored from a changelog.
 */
export class Fingerprinter {
  private readonly miner: TemplateMiner;

  constructor(options: Partial<MinerOptions> = {}, miner?: TemplateMiner) {
    this.miner = miner ?? new TemplateMiner(options);
  }

  /** Number of template clusters held. */
  get size(): number {
    return this.miner.size;
  }

  fingerprint(parsed: ParsedLine, detection?: Detection): FingerprintResult {
    const d = detection ?? detect(parsed);
    const s = stackResult(parsed, d);
    if (s !== undefined) return s;
    return this.fingerprintTokens(
      d.level,
      templateTokens(parsed),
      d.kind === 'none' ? undefined : typeOf(parsed),
    );
  }

  /** Clusters already-masked tokens in a level partition. */
  fingerprintTokens(level: Level, tokens: readonly string[], exceptionType?: string): FingerprintResult {
    const m = this.miner.add(level, tokens);
    const r: FingerprintResult = { fingerprint: m.id, template: m.template };
    if (exceptionType !== undefined) r.exceptionType = exceptionType;
    return r;
  }

  toJSON(): FingerprinterSnapshot {
    return { version: 1, miner: this.miner.toJSON() };
  }

  static fromJSON(s: FingerprinterSnapshot): Fingerprinter {
    return new Fingerprinter({}, TemplateMiner.fromJSON(s.miner));
  }
}
