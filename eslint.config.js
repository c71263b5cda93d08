// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

const wallClock = [
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: 'Processors use event time only: take time from the record or the watermark, not Date.now().',
  },
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'Processors use event time only: new Date() without an argument reads the wall clock.',
  },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: 'Processors are deterministic: no Math.random().',
  },
  {
    selector: "MemberExpression[object.name='process'][property.name='env']",
    message: 'Libraries never read process.env: the CLI parses config once and passes it down.',
  },
  {
    selector: "CallExpression[callee.object.name='performance'][callee.property.name='now']",
    message: 'Processors use event time only: no performance.now().',
  },
];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '.cache/**', '**/dist/**', 'web/dist/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'kafkajs', message: 'kafkajs may be imported only inside streams/src/kafka/.' }],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ExportAllDeclaration',
          message: 'Use explicit named exports, not export * barrels.',
        },
      ],
    },
  },
  {
    files: ['streams/src/kafka/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['processors/src/**/*.ts'],
    ignores: ['processors/src/**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Use explicit named exports, not export * barrels.' },
        ...wallClock,
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'kafkajs', message: 'kafkajs may be imported only inside streams/src/kafka/.' }],
          patterns: [
            {
              group: ['@hetu/producers', '@hetu/projections', '@hetu/cli', '@hetu/web', '@hetu/infra'],
              message: 'processors may import only @hetu/schemas and @hetu/streams.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['schemas/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'kafkajs', message: 'kafkajs may be imported only inside streams/src/kafka/.' }],
          patterns: [{ group: ['@hetu/*'], message: 'schemas imports nothing of ours.' }],
        },
      ],
    },
  },
  {
    files: ['streams/src/**/*.ts'],
    ignores: ['streams/src/kafka/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'kafkajs', message: 'kafkajs may be imported only inside streams/src/kafka/.' }],
          patterns: [
            {
              group: ['@hetu/*', '!@hetu/schemas'],
              message: 'streams may import only @hetu/schemas.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['producers/src/**/*.ts', 'projections/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'kafkajs', message: 'kafkajs may be imported only inside streams/src/kafka/.' }],
          patterns: [
            {
              // Workload identity (a pod's top owner) decides partition keys, so collectors use the
              // same pure function as the processors: the one processors module producers may read.
              group: [
                '@hetu/*',
                '!@hetu/schemas',
                '!@hetu/streams',
                '!@hetu/processors',
                '@hetu/processors/*',
                '!@hetu/processors/health',
                // The LLM worker uses the same pure budget, answer and redaction rules as the requests processor.
                '!@hetu/processors/llm',
              ],
              message:
                'producers and projections may import only @hetu/schemas, @hetu/streams, @hetu/processors/health and @hetu/processors/llm.',
            },
          ],
        },
      ],
    },
  },
  {
    // The dashboard runs in the browser and reads only the GraphQL API.
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'kafkajs', message: 'The dashboard reads only the GraphQL API.' }],
          patterns: [
            { group: ['@hetu/*'], message: 'The dashboard reads only the GraphQL API, no server modules.' },
          ],
        },
      ],
    },
  },
);
