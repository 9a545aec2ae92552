#!/usr/bin/env node
// Builds dist/inspector.html: one self-contained page (script, styles and the wasm core inlined)
// that works from file:// and from any static server. The Content-Security-Policy allows exactly
// the inlined script and style (by hash) and wasm compilation; nothing can be fetched.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'inspector');
const outFile = join(root, 'dist', 'inspector.html');

async function bundle() {
  const script = await build({
    entryPoints: [join(source, 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
  });
  const style = await build({
    entryPoints: [join(source, 'styles.css')],
    bundle: true,
    minify: true,
    write: false,
    target: 'chrome110',
    logLevel: 'warning',
  });

  // `</script` or `</style` inside the inlined text would end the element early.
  const js = script.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1').trim();
  const css = style.outputFiles[0].text.trim();
  if (/<\/style/i.test(css)) throw new Error('build-inspector: styles contain </style');

  const hash = (text) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
  const csp = [
    "default-src 'none'",
    `script-src ${hash(js)} 'wasm-unsafe-eval'`,
    `style-src ${hash(css)}`,
    'img-src data: blob:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  const template = readFileSync(join(source, 'index.html'), 'utf8');
  const slots = { '{{CSP}}': csp, '{{STYLE}}': css, '{{SCRIPT}}': js };
  for (const slot of Object.keys(slots)) {
    if (template.split(slot).length !== 2) throw new Error(`build-inspector: index.html must contain ${slot} exactly once`);
  }
  // One pass, so that a slot-like text inside the script is never replaced.
  const html = template.replace(/\{\{(CSP|STYLE|SCRIPT)\}\}/g, (slot) => slots[slot]);

  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, html);
  console.log(`build-inspector: ${outFile} (${(html.length / 1024).toFixed(0)} KiB)`);
}

await bundle();
