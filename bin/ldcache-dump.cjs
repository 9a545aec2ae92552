#!/usr/bin/env node
// CommonJS on purpose: the bundled CLI starts faster than the ESM module graph.
require("../dist/cli/ldcache-dump.cjs");
