/**
 * Cheap refusals before a GraphQL document is parsed: one pass of graphql's lexer (bounded by the
 * token limit, no syntax tree) finds what the limit rules would refuse — too deep, too many
 * aliases, introspection while it is off — and whether the document holds a mutation, so a
 * read-only token's mutation is refused before parsing too. The verdicts are cached by document
 * text, so a repeated abusive request costs a map lookup.
 *
 * The scan refuses only what validation refuses, with the code and message of the error
 * validation reports first for a valid document (prescan.test.ts compares them on generated
 * documents; the one exception: an introspective operation that is also over the cost limit,
 * which validation reports as too costly first — both 400). When it cannot be sure — fragments
 * (their depth and aliases count where they are spread), a definition that is not an operation,
 * a syntax error, more tokens than the limit — it says nothing and mercurius' parser and rules
 * decide.
 */
import type { Token } from 'graphql';
import { graphql } from './graphql.ts';
import { refusal, type Refusal } from './security.ts';

const { Lexer, Source, TokenKind } = graphql;

export interface PrescanLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxTokens: number;
  /** Introspection allowed (then `__schema` / `__type` are not refused). */
  readonly introspection: boolean;
}

export interface Verdict {
  /** What validation would refuse the document for, or null (not refused here). */
  readonly refusal: Refusal | null;
  /** The document holds a mutation operation (a read-only token may not send it). */
  readonly mutation: boolean;
}

export const PASS: Verdict = Object.freeze({ refusal: null, mutation: false });

const INTROSPECTION_DISABLED = refusal(
  400,
  'HETU_API_INTROSPECTION_DISABLED',
  'Introspection is disabled on this server: start it with --introspection to enable it.',
);

/** What the rules count for one operation. */
interface Operation {
  depth: number;
  aliases: number;
  introspection: boolean;
}

type Bracket = 's' | 'o' | 'p' | 'l'; // a selection set, an object value, parentheses, a list

/** Lexes a document once: the verdict of the limit rules where it is sure of it. */
export function prescan(source: string, limits: PrescanLimits): Verdict {
  const lexer = new Lexer(new Source(source));
  const stack: Bracket[] = [];
  const operations: Operation[] = [];
  let op: Operation = { depth: 0, aliases: 0, introspection: false };
  let level = 0; // open selection sets
  let mutation = false;
  let exact = true; // no fragments, only operations: everything counted as the rules count it
  let atDefinitionStart = true;
  // Field names: a NAME in a selection set, unless it is an alias (followed by ':'), a fragment
  // spread's name, an inline fragment's `on` and type, or a directive's name.
  let pendingName: string | null = null;
  let alias: string | null = null;
  let spread = 0; // 1: after '...'; 2: after '... on'
  let directive = false;
  // A `__schema` field's selection does not count for depth (the depth rule's ignoreIntrospection).
  let schemaPending = false;
  let schemaLevel = -1;
  let tokens = 0;

  const field = (name: string) => {
    schemaPending = false;
    if (alias !== null) {
      // The alias rule's allow list: `__typename`, as the alias or as the field.
      if (alias !== '__typename' && name !== '__typename') op.aliases++;
      alias = null;
    }
    if (name === '__schema' || name === '__type') op.introspection = true;
    if (schemaLevel >= 0) return;
    if (name === '__schema') schemaPending = true;
    else if (level > op.depth) op.depth = level;
  };
  const close = (a: Bracket, b?: Bracket): boolean => {
    const top = stack.pop();
    if (top === undefined || (top !== a && top !== b)) return false;
    if (top === 's') {
      level--;
      schemaPending = false;
      if (level === schemaLevel) schemaLevel = -1;
      if (stack.length === 0) {
        operations.push(op);
        op = { depth: 0, aliases: 0, introspection: false };
        atDefinitionStart = true;
      }
    }
    return true;
  };

  try {
    for (;;) {
      const t: Token = lexer.advance();
      if (t.kind === TokenKind.EOF) break;
      if (++tokens > limits.maxTokens) return PASS;
      const inSelection = stack.length > 0 && stack[stack.length - 1] === 's';
      if (pendingName !== null) {
        // The previous NAME in a selection set: an alias when ':' follows, else a field.
        const name = pendingName;
        pendingName = null;
        if (t.kind === TokenKind.COLON) {
          alias = name;
          continue;
        }
        field(name);
      }
      switch (t.kind) {
        case TokenKind.BRACE_L:
          if (stack.length === 0 || inSelection) {
            if (schemaPending) {
              schemaLevel = level;
              schemaPending = false;
            }
            stack.push('s');
            level++;
          } else stack.push('o');
          spread = 0;
          directive = false;
          break;
        case TokenKind.PAREN_L:
          stack.push('p');
          break;
        case TokenKind.BRACKET_L:
          stack.push('l');
          break;
        case TokenKind.BRACE_R:
          if (!close('s', 'o')) return PASS;
          break;
        case TokenKind.PAREN_R:
          if (!close('p')) return PASS;
          break;
        case TokenKind.BRACKET_R:
          if (!close('l')) return PASS;
          break;
        case TokenKind.SPREAD:
          if (inSelection) {
            spread = 1;
            exact = false;
          }
          break;
        case TokenKind.AT:
          if (inSelection) directive = true;
          break;
        case TokenKind.NAME:
          if (stack.length === 0) {
            // A definition's keyword (its name and directives follow).
            if (atDefinitionStart) {
              atDefinitionStart = false;
              if (t.value === 'mutation') mutation = true;
              else if (t.value !== 'query' && t.value !== 'subscription') exact = false; // a fragment, or not executable
            }
          } else if (inSelection) {
            if (directive) directive = false;
            else if (spread === 1) spread = t.value === 'on' ? 2 : 0;
            else if (spread === 2) spread = 0;
            else pendingName = t.value;
          }
          break;
        default:
          break;
      }
    }
  } catch {
    return PASS; // a syntax error: the parser reports it
  }
  if (stack.length > 0 || pendingName !== null) return PASS; // unbalanced: a syntax error too
  if (exact) {
    // Validation visits the operations in order: at each, the depth then the alias rule, then
    // its fields (introspection).
    for (const o of operations) {
      if (o.depth > limits.maxDepth)
        return {
          refusal: refusal(
            400,
            'HETU_API_QUERY_TOO_DEEP',
            `Query depth limit of ${limits.maxDepth} exceeded, found ${o.depth}.`,
          ),
          mutation,
        };
      if (o.aliases > limits.maxAliases)
        return {
          refusal: refusal(
            400,
            'HETU_API_TOO_MANY_ALIASES',
            `Aliases limit of ${limits.maxAliases} exceeded, found ${o.aliases}.`,
          ),
          mutation,
        };
      if (o.introspection && !limits.introspection) return { refusal: INTROSPECTION_DISABLED, mutation };
    }
  }
  return mutation ? { refusal: null, mutation } : PASS;
}

/**
 * Verdicts by document text, least recently used evicted, bounded by the documents' total length
 * (a document over `maxEntryChars` is scanned every time rather than kept).
 */
export class VerdictCache {
  private readonly map = new Map<string, Verdict>();
  private chars = 0;
  private readonly limits: PrescanLimits;
  private readonly maxChars: number;
  private readonly maxEntryChars: number;

  constructor(limits: PrescanLimits, maxChars = 4_000_000, maxEntryChars = 256 * 1024) {
    this.limits = limits;
    this.maxChars = maxChars;
    this.maxEntryChars = maxEntryChars;
  }

  get size(): number {
    return this.map.size;
  }

  verdict(source: string): Verdict {
    const hit = this.map.get(source);
    if (hit !== undefined) {
      this.map.delete(source);
      this.map.set(source, hit);
      return hit;
    }
    const v = prescan(source, this.limits);
    if (source.length <= this.maxEntryChars) {
      this.map.set(source, v);
      this.chars += source.length;
      for (const [k] of this.map) {
        if (this.chars <= this.maxChars) break;
        this.map.delete(k);
        this.chars -= k.length;
      }
    }
    return v;
  }
}
