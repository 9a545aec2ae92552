#!/usr/bin/env node
import '../dist/cli/nvidia-docker.js';
