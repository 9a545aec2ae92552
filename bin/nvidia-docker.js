#!/usr/bin/env -S node --
// `node --`: node reads a `--env-file` anywhere in its argv (nodejs/node#54232) and exits when the
// file is missing; docker's `run --env-file` must reach the wrapper, so node's options end here.
import '../dist/cli/nvidia-docker.js';
