/**
 * The lexer pre-scan against the real thing: for generated documents over hetu's schema (nesting
 * through `after`, aliases, `__typename`, introspection fields, fragments, directives, variables,
 * several operations, mutations) and hand-written ones (the fault suite's abuse, syntax errors),
 * every refusal of prescan() must be the first error graphql's validation with the API's rules
 * reports, code and message; for documents without fragments it must refuse everything those
 * rules refuse for depth, aliases or introspection; and it must find every mutation.
 */
import { readFileSync } from 'node:fs';
import type { DocumentNode, GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ABUSE_KINDS, abuseRequests } from '../../../test/faults/graphql-abuse-kinds.ts';
import { graphql } from './graphql.ts';
import { PASS, VerdictCache, prescan, type PrescanLimits } from './prescan.ts';
import { DEFAULT_LIMITS, limitRules } from './security.ts';
import { prng } from '@hetu/streams';

const { buildSchema, parse, specifiedRules, validate, Kind } = graphql;
const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

const LIMITED = ['HETU_API_QUERY_TOO_DEEP', 'HETU_API_TOO_MANY_ALIASES', 'HETU_API_INTROSPECTION_DISABLED'];

interface Truth {
  parsed: boolean;
  errors: { code: string; message: string }[];
  mutation: boolean;
}

/** What mercurius would do: parse with the token limit, validate with the specified and limit rules. */
function truth(doc: string, introspection: boolean): Truth {
  let document: DocumentNode;
  try {
    document = parse(doc, { maxTokens: DEFAULT_LIMITS.maxTokens });
  } catch {
    return { parsed: false, errors: [], mutation: false };
  }
  const errors = validate(schema, document, [
    ...specifiedRules,
    ...limitRules(DEFAULT_LIMITS, introspection),
  ]).map((e: GraphQLError) => ({
    code: String(e.extensions?.['code'] ?? 'HETU_API_INVALID_QUERY'),
    message: e.message,
  }));
  const mutation = document.definitions.some(
    (d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === 'mutation',
  );
  return { parsed: true, errors, mutation };
}

const limitsOf = (introspection: boolean): PrescanLimits => ({
  maxDepth: DEFAULT_LIMITS.maxDepth,
  maxAliases: DEFAULT_LIMITS.maxAliases,
  maxTokens: DEFAULT_LIMITS.maxTokens,
  introspection,
});

/** Checks one document; returns the refusal's code, or null. */
function check(doc: string, introspection: boolean, hasFragments: boolean): string | null {
  const t = truth(doc, introspection);
  const v = prescan(doc, limitsOf(introspection));
  const where = `${introspection ? 'introspection on' : 'introspection off'}: ${doc.slice(0, 400)}`;
  if (t.parsed) expect([where, v.mutation]).toEqual([where, t.mutation]);
  if (v.refusal !== null) {
    expect([where, t.parsed]).toEqual([where, true]);
    const first = t.errors[0];
    const valid = t.errors.every((e) => LIMITED.includes(e.code) || e.code === 'HETU_API_QUERY_TOO_COSTLY');
    if (!valid) {
      // An invalid document (e.g. conflicting fields): validation refuses it for the same limit
      // too, though perhaps after another error.
      expect([
        where,
        t.errors.some((e) => e.code === v.refusal!.code && e.message === v.refusal!.message),
      ]).toEqual([where, true]);
    } else if (
      v.refusal.code === 'HETU_API_INTROSPECTION_DISABLED' &&
      first?.code === 'HETU_API_QUERY_TOO_COSTLY'
    ) {
      // The documented exception: an introspective operation also over the cost limit.
      expect(t.errors.map((e) => e.code)).toContain('HETU_API_INTROSPECTION_DISABLED');
    } else {
      expect([where, first]).toEqual([where, { code: v.refusal.code, message: v.refusal.message }]);
    }
    expect(JSON.parse(v.refusal.body)).toEqual({
      data: null,
      errors: [{ message: v.refusal.message, extensions: { code: v.refusal.code } }],
    });
    expect(v.refusal.status).toBe(400);
    return v.refusal.code;
  }
  if (t.parsed && !hasFragments && t.errors.length > 0) {
    // Complete for documents without fragments: what validation refuses first for a limit
    // (or introspection), the scan refused.
    expect([where, LIMITED.includes(t.errors[0]!.code)]).toEqual([where, false]);
  }
  return null;
}

const POSITION = '{ topic: "hetu.commands", partition: 0, offset: "0" }';

/** A generated document: nested selections over Query, and whether it uses fragments. */
function generate(random: () => number): { doc: string; hasFragments: boolean } {
  const int = (n: number) => Math.floor(random() * n);
  const chance = (p: number) => random() < p;
  let hasFragments = false;
  const fragments: string[] = [];
  const withFragments = chance(0.25);
  const withIntrospection = chance(0.4);
  let aliasN = 0;
  const alias = () => `a${aliasN++}: `;
  const introspection = () =>
    chance(0.5)
      ? `${chance(0.2) ? alias() : ''}__schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } }`
      : `${chance(0.2) ? alias() : ''}__type(name: "Query") { name fields { name type { kind ofType { kind ofType { name } } } } }`;
  const selection = (depth: number, budget: number): string => {
    const parts: string[] = [];
    const n = 1 + int(4);
    for (let i = 0; i < n; i++) {
      const r = random();
      if (r < 0.35) {
        const k = chance(0.04) ? int(45) : int(3);
        for (let j = 0; j < k; j++) parts.push(`${alias()}clusters`);
      } else if (r < 0.45) parts.push(chance(0.5) ? `${alias()}__typename` : `__typename: clusters`);
      else if (r < 0.5) parts.push('__typename');
      else if (r < 0.58) parts.push(withIntrospection ? introspection() : 'clusters');
      else if (r < 0.66) parts.push(`clusters @include(if: ${chance(0.5)})`);
      else if (r < 0.72) parts.push('overview { cluster score { overall dimensions { dimension score } } }');
      else if (r < 0.8 && !withFragments) parts.push('clusters');
      else if (r < 0.77) {
        hasFragments = true;
        parts.push(`... on Query { ${chance(0.5) ? `${alias()}clusters` : 'clusters'} }`);
      } else if (r < 0.8) {
        hasFragments = true;
        const name = `F${fragments.length}`;
        fragments.push(`fragment ${name} on Query { clusters ${chance(0.5) ? `${alias()}clusters` : ''} }`);
        parts.push(`...${name}`);
      }
    }
    if (budget > 0 && (parts.length === 0 || chance(0.97))) {
      const arg = chance(0.3) ? '$p' : POSITION;
      parts.push(
        `${chance(0.2) ? alias() : ''}after(position: ${arg}${chance(0.2) ? ', timeoutMs: 10' : ''}) { ${selection(depth + 1, budget - 1)} }`,
      );
    }
    if (parts.length === 0) parts.push('clusters');
    return parts.join(chance(0.5) ? ' ' : ', ');
  };
  const operation = (i: number): string => {
    aliasN = 0;
    const budget = chance(0.5) ? int(25) : int(12);
    const body = selection(1, budget);
    const vars = body.includes('$p') ? `($p: PositionInput! = ${POSITION})` : '';
    if (chance(0.1)) return `mutation M${i} { splitErrorGroup(id: "x") { id } }`;
    if (i === 0 && vars === '' && chance(0.3)) return `{ ${body} }`;
    return `query Q${i}${vars} { ${body} }`;
  };
  const ops = chance(0.8) ? 1 : 2 + int(2);
  const defs = Array.from({ length: ops }, (_, i) => operation(i));
  // An anonymous operation must be alone.
  const doc = [
    ...(ops > 1 ? defs.map((d, i) => (d.startsWith('{') ? `query Q${i} ${d}` : d)) : defs),
    ...fragments,
  ]
    .join(chance(0.5) ? '\n' : ' ')
    .concat(chance(0.2) ? ' # a comment { { {' : '');
  return { doc, hasFragments };
}

describe('prescan: refusals before parsing', () => {
  it('refuses the fault suite’s abusive documents as validation does, and passes the overview', () => {
    const codes: Record<string, string | null> = {};
    for (const a of abuseRequests('t')) {
      let query: unknown;
      try {
        query = (JSON.parse(a.body) as { query?: unknown }).query;
      } catch {
        continue; // garbage JSON: refused before GraphQL
      }
      if (typeof query !== 'string' || query.length > 100_000) continue;
      codes[a.name] = check(query, false, false);
    }
    expect(Object.keys(codes).length).toBeGreaterThan(5);
    expect(ABUSE_KINDS.length).toBe(10);
    expect(codes).toMatchObject({
      'query 50 levels deep': 'HETU_API_QUERY_TOO_DEEP',
      '1 000 aliases': 'HETU_API_TOO_MANY_ALIASES',
      'introspection (off)': 'HETU_API_INTROSPECTION_DISABLED',
      'read token on a mutation': null,
    });
    expect(prescan('mutation { splitErrorGroup(id: "x") { id } }', limitsOf(false))).toEqual({
      refusal: null,
      mutation: true,
    });
    const overview = readFileSync(new URL('../../../bench/api.bench.ts', import.meta.url), 'utf8');
    const q = /OVERVIEW_QUERY = `([^`]+)`/.exec(overview)![1]!;
    expect(check(q, false, false)).toBeNull();
    expect(prescan(q, limitsOf(false))).toBe(PASS);
  });

  it('agrees with validation on 600 generated documents, introspection off and on', () => {
    const random = prng(20261126);
    const seen: Record<string, number> = {};
    for (let i = 0; i < 600; i++) {
      const { doc, hasFragments } = generate(random);
      for (const introspection of [false, true]) {
        const code = check(doc, introspection, hasFragments) ?? 'pass';
        seen[code] = (seen[code] ?? 0) + 1;
      }
    }
    console.log(`[prescan] verdicts on generated documents: ${JSON.stringify(seen)}`);
    // The generator reaches every refusal and plenty of passes.
    for (const code of [...LIMITED, 'pass']) expect([code, (seen[code] ?? 0) > 20]).toEqual([code, true]);
  });

  it('leaves syntax errors, fragments and over-long documents to the parser', () => {
    const deep = (n: number) =>
      `{ ${('after(position: ' + POSITION + ') { ').repeat(n)}clusters${' }'.repeat(n)} }`;
    expect(prescan(deep(20), limitsOf(false)).refusal?.code).toBe('HETU_API_QUERY_TOO_DEEP');
    for (const doc of [
      deep(20).slice(0, -2), // unbalanced
      `${deep(20)} }`, // one brace too many
      `${deep(20).slice(0, -1)})`, // a bracket that does not match
      `{ "unterminated ${deep(20)}`, // a lexer error
      `{ __schema { types { name } }`,
      `{ ...F } fragment F on Query { __schema { types { name } } }`,
      `{ ... on Query { __schema { types { name } } } }`,
      `type Query { ${Array.from({ length: 40 }, (_, i) => `a${i}: Int`).join(' ')} }`,
    ])
      expect([doc.slice(0, 60), prescan(doc, limitsOf(false))]).toEqual([doc.slice(0, 60), PASS]);
    const many = `{ ${'clusters '.repeat(DEFAULT_LIMITS.maxTokens)} __schema { types { name } } }`;
    expect(prescan(many, limitsOf(false))).toBe(PASS);
  });

  it('caches verdicts by document, bounded by their total length', () => {
    const cache = new VerdictCache(limitsOf(false), 1000, 300);
    const doc = (i: number) => `{ __schema { types { name } } } # ${i} ${'x'.repeat(80)}`;
    const v = cache.verdict(doc(0));
    expect(v.refusal?.code).toBe('HETU_API_INTROSPECTION_DISABLED');
    expect(cache.verdict(doc(0))).toBe(v);
    for (let i = 1; i < 50; i++) cache.verdict(doc(i));
    expect(cache.size).toBeLessThanOrEqual(Math.floor(1000 / doc(0).length));
    expect(cache.size).toBeGreaterThan(0);
    cache.verdict(`{ clusters } # ${'y'.repeat(400)}`); // over maxEntryChars: not kept
    expect(cache.size).toBeLessThanOrEqual(Math.floor(1000 / doc(0).length));
  });
});
