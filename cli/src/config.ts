import { z } from 'zod';
import { HetuError } from '@hetu/streams';
import { llmConfigFromEnv, type LlmConfig } from '@hetu/producers/llm';

/** Global options, after flags and environment are merged (flags win). */
export const GlobalConfig = z
  .object({
    dataDir: z.string().min(1),
    kafka: z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'a broker is host:port'))
      .min(1)
      .optional(),
    registry: z.url().optional(),
    output: z.enum(['json', 'table']),
  })
  .refine((c) => !(c.kafka && !c.registry), {
    message: '--kafka needs --registry <url> too (the schema registry of that cluster)',
    path: ['registry'],
  })
  .readonly();

export type GlobalConfig = z.infer<typeof GlobalConfig>;

export interface RawGlobalOptions {
  dataDir?: string;
  kafka?: string;
  registry?: string;
  output?: string;
}

/** Parses flags over environment (the only place hetu reads process.env), validated and frozen. */
export function parseGlobalConfig(flags: RawGlobalOptions, env: NodeJS.ProcessEnv): GlobalConfig {
  const kafka = flags.kafka ?? env.HETU_KAFKA_BROKERS;
  const raw = {
    dataDir: flags.dataDir ?? env.HETU_DATA_DIR ?? '.hetu',
    kafka: kafka
      ? kafka
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined,
    registry: flags.registry ?? env.HETU_SCHEMA_REGISTRY_URL,
    output: flags.output ?? 'table',
  };
  const parsed = GlobalConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `Option ${issue.path.join('.') || '(global)'} is not valid: ${issue.message}.`,
    );
  }
  return Object.freeze(parsed.data);
}

/** The LLM flags (`--llm-*`); each wins over its `HETU_LLM_*` variable. */
export interface RawLlmOptions {
  llmBaseUrl?: string;
  llmModel?: string;
  llmApiKey?: string;
  llmMaxTokens?: string;
  llmDailyTokens?: string;
}

/**
 * The LLM configuration from flags over environment, validated and frozen; undefined when no LLM
 * is configured (a normal state). A bad value throws `HETU_LLM_CONFIG_INVALID` with one sentence;
 * the API key is never echoed.
 */
export function parseLlmConfig(flags: RawLlmOptions, env: NodeJS.ProcessEnv): LlmConfig | undefined {
  const pick = (flag: string | undefined, name: string) => flag ?? env[name];
  return llmConfigFromEnv({
    HETU_LLM_BASE_URL: pick(flags.llmBaseUrl, 'HETU_LLM_BASE_URL'),
    HETU_LLM_MODEL: pick(flags.llmModel, 'HETU_LLM_MODEL'),
    HETU_LLM_API_KEY: pick(flags.llmApiKey, 'HETU_LLM_API_KEY'),
    HETU_LLM_MAX_TOKENS: pick(flags.llmMaxTokens, 'HETU_LLM_MAX_TOKENS'),
    HETU_LLM_DAILY_TOKENS: pick(flags.llmDailyTokens, 'HETU_LLM_DAILY_TOKENS'),
  });
}
