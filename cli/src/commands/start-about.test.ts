import { readFileSync } from 'node:fs';
import { llmConfigFromEnv } from '@hetu/producers/llm';
import { describe, expect, it } from 'vitest';
import { HETU_VERSION, aboutOf } from './start.ts';

describe('aboutOf (the API’s `about`)', () => {
  it('is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    expect(HETU_VERSION).toBe(pkg.version);
  });

  it('says no LLM when none is configured', () => {
    expect(aboutOf(undefined).llm).toEqual({
      configured: false,
      endpoint: null,
      model: null,
      pseudonymize: false,
      dailyTokens: null,
    });
  });

  it('gives the endpoint masked, the model and the budget, never the key', () => {
    const config = llmConfigFromEnv({
      HETU_LLM_BASE_URL: 'https://user:secret@llm.example/v1?key=abc',
      HETU_LLM_MODEL: 'small-model',
      HETU_LLM_API_KEY: 'sk-very-secret',
      HETU_LLM_DAILY_TOKENS: '250000',
    })!;
    const about = aboutOf({ config, pseudonymize: true });
    expect(about.llm.configured).toBe(true);
    expect(about.llm.model).toBe('small-model');
    expect(about.llm.dailyTokens).toBe(250_000);
    expect(about.llm.pseudonymize).toBe(true);
    expect(about.llm.endpoint).toContain('llm.example');
    expect(JSON.stringify(about)).not.toMatch(/secret|sk-very|key=abc/);
  });
});
