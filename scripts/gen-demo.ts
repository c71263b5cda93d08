/**
 * Writes the demo recording and its scenario manifest (docs/recording.md):
 *
 *   node scripts/gen-demo.ts --out demo/demo.jsonl.gz
 *
 * `--out` ending in `.gz` writes gzip (the reader detects it); the manifest goes beside it as
 * `scenarios.json`. Deterministic: the same seed (`--seed`, default 20261126) gives the same bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { DEMO_SEED, generateDemo } from '../producers/src/recording/demo.ts';

const { values } = parseArgs({
  options: { out: { type: 'string', default: 'demo/demo.jsonl.gz' }, seed: { type: 'string' } },
});
const out = values.out as string;
const seed = values.seed === undefined ? DEMO_SEED : Number(values.seed);
if (!Number.isInteger(seed)) {
  process.stderr.write(`gen-demo: --seed must be an integer, got ${values.seed}\n`);
  process.exit(2);
}
const demo = generateDemo(seed);
const bytes = Buffer.from(demo.text, 'utf8');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, out.endsWith('.gz') ? gzipSync(bytes, { level: 9 }) : bytes);
const manifest = join(dirname(out), 'scenarios.json');
// Formatted as the repository's prettier would, so `npm run lint` stays clean after regenerating.
const json = JSON.stringify({ recording: out.split('/').pop(), seed, scenarios: demo.scenarios });
writeFileSync(manifest, await format(json, { ...(await resolveConfig(manifest)), parser: 'json' }));
const counts: Record<string, number> = {};
for (const o of demo.observations) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
process.stdout.write(
  `wrote ${out}: ${demo.observations.length} observations (${Object.entries(counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')}), ${bytes.length} bytes uncompressed; ${manifest}: ${demo.scenarios.length} scenarios\n`,
);
