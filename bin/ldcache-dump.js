#!/usr/bin/env node
import '../dist/cli/ldcache-dump.js';
