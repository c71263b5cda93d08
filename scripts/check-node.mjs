// Fails early, with one sentence, when the project's Node 24 runtime is not the one running.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `hetu needs Node 24 or newer, but this is Node ${process.versions.node}: run 'npm install' in the project root (it brings Node 24 into node_modules) and use 'npm test' / 'npm start'.`,
  );
  process.exit(2);
}
