// The child process of the crash-sites fault test (crash-sites.test.ts): on the embedded log in
// <dataDir> (already holding a recording's raw topics), runs every analysis stage to the end, then
// the projections (stores under <dataDir>/projections) until they have applied every fact. It
// says which part it is in; the test kills it (SIGKILL at a random moment, or through
// HETU_CRASH_AT at a named site: streams/src/crash-points.ts) and starts it again until it
// prints `done`.
import { join } from 'node:path';
import { Projections } from '@hetu/projections';
import { parseGlobalConfig } from '../../cli/src/config.ts';
import { openBackend } from '../../cli/src/backend.ts';
import { runStages } from '../../cli/src/commands/analyze.ts';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: crash-child.ts <dataDir>\n');
  process.exit(2);
}
const backend = await openBackend(parseGlobalConfig({ dataDir }, {}));
process.stdout.write('ready\n');
await runStages(backend, { stage: (name) => process.stdout.write(`stage ${name}\n`) });
process.stdout.write('stage projections\n');
const projections = await Projections.start({
  log: backend.log,
  serde: backend.serde,
  dataDir: join(dataDir, 'projections'),
});
await projections.whenCaughtUp(600_000);
await projections.close();
await backend.close();
process.stdout.write('done\n');
