/**
 * Typed LLM answers (SPEC §7, LLM part): the raw text a model returned is parsed and validated
 * against a fixed shape. Pure.
 *
 * Accepted: one JSON object, alone, inside a ```json (or bare ```) fence, or after leading prose
 * (the object is taken from the first `{` to the last `}`). Anything else — no object, JSON that
 * does not parse, an array, a shape mismatch — is `{ok: false, reason: 'invalid'}` with a
 * one-sentence detail and the raw text kept for the operator. Unknown keys are dropped; a missing
 * list (factors, blast radius, remediation, measures, evidence ids) is read as empty, while the
 * summary, the root cause and its confidence are required. Confidence must be 0..1 (a percentage
 * such as 85 is rejected, not rescaled).
 *
 * Citations: an incident answer that cites evidence ids the prompt did not contain stays valid
 * (`ok: true`) but is flagged: `citationsValid` is false, the unknown ids are listed in
 * `unknownCitations`, and `analysis.evidenceIds` keeps only the known ids (de-duplicated, in the
 * answer's order). A shape violation makes an answer unusable; a wrong citation makes it
 * unverified, which the UI shows beside the text. An answer that cites nothing has
 * `citationsValid: true` (every cited id exists) and an empty `evidenceIds`.
 */
import { z } from 'zod';

const MAX_TEXT = 4_000;
const MAX_ITEMS = 50;

const text = z.string().trim().min(1).max(MAX_TEXT);
const level = z.enum(['low', 'medium', 'high']);
const confidence = z.number().min(0).max(1);
const list = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_ITEMS);

export const IncidentAnalysis = z.object({
  summary: text,
  rootCause: z.object({
    description: text,
    confidence,
    resource: z
      .object({
        kind: z.string().trim().min(1).max(200),
        namespace: z.string().trim().max(253),
        name: z.string().trim().min(1).max(253),
      })
      .optional(),
  }),
  contributingFactors: list(text).default([]),
  blastRadius: z
    .object({
      workloads: list(z.string().max(512)).default([]),
      pods: list(z.string().max(512)).default([]),
      namespaces: list(z.string().max(253)).default([]),
    })
    .default({ workloads: [], pods: [], namespaces: [] }),
  remediation: list(
    z.object({
      step: text,
      risk: level,
      automatable: z.boolean(),
      effort: level,
    }),
  ).default([]),
  preventiveMeasures: list(text).default([]),
  evidenceIds: list(z.string().max(200)).default([]),
});
export type IncidentAnalysis = z.infer<typeof IncidentAnalysis>;

export const ErrorGroupAnalysis = z.object({
  rootCause: text,
  impact: text,
  fix: text,
  severity: z.enum(['low', 'medium', 'high', 'critical']),
  confidence,
});
export type ErrorGroupAnalysis = z.infer<typeof ErrorGroupAnalysis>;

export type ParsedAnswer<T> =
  | {
      readonly ok: true;
      readonly analysis: T;
      readonly citationsValid: boolean;
      readonly unknownCitations: string[];
    }
  | { readonly ok: false; readonly reason: 'invalid'; readonly detail: string; readonly raw: string };

type Extracted = { ok: true; value: Record<string, unknown> } | { ok: false; detail: string };

/** The body of the first ``` fence (an optional language tag on its opening line), or null. */
function fenced(raw: string): string | null {
  const open = raw.indexOf('```');
  if (open === -1) return null;
  const lineEnd = raw.indexOf('\n', open + 3);
  if (lineEnd === -1) return null;
  const tag = raw.slice(open + 3, lineEnd).trim();
  if (tag !== '' && !/^[A-Za-z0-9_-]{1,20}$/.test(tag)) return null;
  const close = raw.indexOf('```', lineEnd + 1);
  if (close === -1) return null;
  return raw.slice(lineEnd + 1, close);
}

function whole(body: string): { parsed: true; value: unknown } | { parsed: false } {
  const t = body.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return { parsed: false };
  try {
    return { parsed: true, value: JSON.parse(t) as unknown };
  } catch {
    return { parsed: false };
  }
}

function extractObject(raw: string): Extracted {
  const body = fenced(raw) ?? raw;
  const direct = whole(body);
  if (direct.parsed) {
    const v = direct.value;
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return { ok: false, detail: 'The answer is not a JSON object.' };
    return { ok: true, value: v as Record<string, unknown> };
  }
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start === -1 || end < start) return { ok: false, detail: 'The answer contains no JSON object.' };
  let value: unknown;
  try {
    value = JSON.parse(body.slice(start, end + 1));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, detail: `The answer's JSON object does not parse (${why}).` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, detail: 'The answer is not a JSON object.' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

function shapeDetail(shape: string, error: z.ZodError): string {
  const first = error.issues[0];
  const where =
    first === undefined || first.path.length === 0 ? '(top level)' : first.path.map(String).join('.');
  const more =
    error.issues.length > 1
      ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})`
      : '';
  const message = (first?.message ?? 'invalid').replace(/\.$/, '');
  return `The answer does not have the ${shape} shape: ${where}: ${message}${more}.`;
}

function parseWith<T>(raw: string, schema: z.ZodType<T>, shape: string): ParsedAnswer<T> {
  const extracted = extractObject(raw);
  if (!extracted.ok) return { ok: false, reason: 'invalid', detail: extracted.detail, raw };
  const parsed = schema.safeParse(extracted.value);
  if (!parsed.success) return { ok: false, reason: 'invalid', detail: shapeDetail(shape, parsed.error), raw };
  return { ok: true, analysis: parsed.data, citationsValid: true, unknownCitations: [] };
}

/**
 * Parses an incident answer; `knownEvidenceIds` are the ids the prompt contained
 * (`LlmPrompt.evidenceIds`). See the module comment for what counts as valid.
 */
export function parseIncidentAnswer(
  raw: string,
  knownEvidenceIds: Iterable<string>,
): ParsedAnswer<IncidentAnalysis> {
  const result = parseWith(raw, IncidentAnalysis, 'IncidentAnalysis');
  if (!result.ok) return result;
  const known = new Set(knownEvidenceIds);
  const kept: string[] = [];
  const unknown: string[] = [];
  for (const id of result.analysis.evidenceIds) {
    const target = known.has(id) ? kept : unknown;
    if (!target.includes(id)) target.push(id);
  }
  return {
    ok: true,
    analysis: { ...result.analysis, evidenceIds: kept },
    citationsValid: unknown.length === 0,
    unknownCitations: unknown,
  };
}

/** Parses an error-group answer (it cites nothing, so `citationsValid` is always true). */
export function parseErrorGroupAnswer(raw: string): ParsedAnswer<ErrorGroupAnalysis> {
  return parseWith(raw, ErrorGroupAnalysis, 'ErrorGroupAnalysis');
}
