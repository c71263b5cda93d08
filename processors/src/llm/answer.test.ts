import { describe, expect, it } from 'vitest';
import { parseErrorGroupAnswer, parseIncidentAnswer } from './answer.ts';

const KNOWN = ['ev-5c27e98f2f2a', 'ev-1', 'ev-2'];

const answer = {
  summary: 'The api container was OOM-killed twice after its heap grew.',
  rootCause: {
    description: 'A cache without eviction grows until the 512 MiB limit.',
    confidence: 0.8,
    resource: { kind: 'Deployment', namespace: 'shop', name: 'api' },
  },
  contributingFactors: ['Memory limit close to the working set'],
  blastRadius: { workloads: ['shop/api'], pods: ['shop/api-7d9f-x2'], namespaces: ['shop'] },
  remediation: [{ step: 'Bound the cache size', risk: 'low', automatable: false, effort: 'medium' }],
  preventiveMeasures: ['Alert on memory above 80 % of the limit'],
  evidenceIds: ['ev-5c27e98f2f2a', 'ev-1'],
};
const raw = JSON.stringify(answer);

describe('parseIncidentAnswer', () => {
  it('accepts a bare JSON object with valid citations', () => {
    expect(parseIncidentAnswer(raw, KNOWN)).toEqual({
      ok: true,
      analysis: answer,
      citationsValid: true,
      unknownCitations: [],
    });
  });

  it('accepts the object inside a ```json fence, or after leading prose', () => {
    const fenced = parseIncidentAnswer(
      'Here is my analysis:\n```json\n' + raw + '\n```\nHope it helps.',
      KNOWN,
    );
    const prose = parseIncidentAnswer('Sure! ' + raw, KNOWN);
    const bare = parseIncidentAnswer('```\n' + raw + '\n```', KNOWN);
    for (const r of [fenced, prose, bare]) expect(r).toEqual(parseIncidentAnswer(raw, KNOWN));
  });

  it('flags unknown citations but keeps the answer, with only the known ids (de-duplicated)', () => {
    const r = parseIncidentAnswer(
      JSON.stringify({ ...answer, evidenceIds: ['ev-1', 'ev-999', 'ev-1', 'ev-2', 'http://evil.example/x'] }),
      KNOWN,
    );
    expect(r).toEqual({
      ok: true,
      analysis: { ...answer, evidenceIds: ['ev-1', 'ev-2'] },
      citationsValid: false,
      unknownCitations: ['ev-999', 'http://evil.example/x'],
    });
  });

  it('reads missing lists as empty, drops unknown keys, and trims texts', () => {
    const r = parseIncidentAnswer(
      JSON.stringify({
        summary: '  short  ',
        rootCause: { description: 'x', confidence: 0 },
        extra: 'ignored',
        action: { type: 'delete', target: 'everything' },
      }),
      KNOWN,
    );
    expect(r).toEqual({
      ok: true,
      analysis: {
        summary: 'short',
        rootCause: { description: 'x', confidence: 0 },
        contributingFactors: [],
        blastRadius: { workloads: [], pods: [], namespaces: [] },
        remediation: [],
        preventiveMeasures: [],
        evidenceIds: [],
      },
      citationsValid: true,
      unknownCitations: [],
    });
  });

  it.each([
    ['no JSON at all', 'I cannot help with that.', 'The answer contains no JSON object.'],
    ['an empty answer', '', 'The answer contains no JSON object.'],
    ['a JSON array', '[{"summary":"x"}]', 'The answer is not a JSON object.'],
    [
      'JSON that does not parse',
      '{"summary": "x",}',
      "The answer's JSON object does not parse (Expected double-quoted property name in JSON at position 16 (line 1 column 17)).",
    ],
    [
      'a confidence given in percent',
      JSON.stringify({ ...answer, rootCause: { ...answer.rootCause, confidence: 85 } }),
      'The answer does not have the IncidentAnalysis shape: rootCause.confidence: Too big: expected number to be <=1.',
    ],
    [
      'a risk outside the enum',
      JSON.stringify({
        ...answer,
        remediation: [{ step: 's', risk: 'none', automatable: true, effort: 'low' }],
      }),
      'The answer does not have the IncidentAnalysis shape: remediation.0.risk: Invalid option: expected one of "low"|"medium"|"high".',
    ],
    [
      'a missing summary and root cause',
      JSON.stringify({ evidenceIds: [] }),
      'The answer does not have the IncidentAnalysis shape: summary: Invalid input: expected string, received undefined (and 1 more problem).',
    ],
    [
      'an empty summary',
      JSON.stringify({ ...answer, summary: '   ' }),
      'The answer does not have the IncidentAnalysis shape: summary: Too small: expected string to have >=1 characters.',
    ],
  ])('rejects %s with one sentence and keeps the raw text', (_name, text, detail) => {
    expect(parseIncidentAnswer(text, KNOWN)).toEqual({ ok: false, reason: 'invalid', detail, raw: text });
  });
});

describe('parseErrorGroupAnswer', () => {
  const group = {
    rootCause: 'Unbounded cache',
    impact: 'Orders fail while the pod restarts',
    fix: 'Bound the cache',
    severity: 'high',
    confidence: 0.7,
  };

  it('accepts the shape, citing nothing', () => {
    expect(parseErrorGroupAnswer('```json\n' + JSON.stringify(group) + '\n```')).toEqual({
      ok: true,
      analysis: group,
      citationsValid: true,
      unknownCitations: [],
    });
  });

  it('rejects a severity outside the enum', () => {
    const text = JSON.stringify({ ...group, severity: 'sev1' });
    expect(parseErrorGroupAnswer(text)).toEqual({
      ok: false,
      reason: 'invalid',
      detail:
        'The answer does not have the ErrorGroupAnalysis shape: severity: Invalid option: expected one of "low"|"medium"|"high"|"critical".',
      raw: text,
    });
  });
});
