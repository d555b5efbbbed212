#!/usr/bin/env node
// `latentlab` / `npx latentlab`: builds on first use, then runs the CLI.
const { ensureBuilt } = require('../scripts/ensure-built.js');

ensureBuilt();
const { main } = require('../out/main/cli.js');
main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exit(code);
});
