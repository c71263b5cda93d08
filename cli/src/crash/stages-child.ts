// A child process for the pipeline crash test: runs every analysis stage on the embedded log in
// <dataDir> (already holding a recording's raw topics) to the end, saying which stage it is in.
// The test kills it at random moments and starts it again until it prints `done`.
import { parseGlobalConfig } from '../config.ts';
import { openBackend } from '../backend.ts';
import { runStages } from '../commands/analyze.ts';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: stages-child.ts <dataDir>\n');
  process.exit(2);
}
const backend = await openBackend(parseGlobalConfig({ dataDir }, {}));
process.stdout.write('ready\n');
await runStages(backend, { stage: (name) => process.stdout.write(`stage ${name}\n`) });
await backend.close();
process.stdout.write('done\n');
