#!/usr/bin/env node
import '../dist/cli/nvidia-volume.js';
