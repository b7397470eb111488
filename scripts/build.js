#!/usr/bin/env node
// Build: compile TypeScript to dist/, then bundle the agent into one file (dist/axagent.js)
// that runs on a board's plain Node >= 18 with no node_modules. Plain JS so it runs before tsc.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

/** Compiles; returns false on type errors (tsc still emits, so the rest of the build goes on). */
function tsc() {
  const bin = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [bin, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    return true;
  } catch {
    return false;
  }
}

function makeExecutable(rel) {
  const file = path.join(dist, rel);
  if (!fs.existsSync(file)) return;
  const text = fs.readFileSync(file, 'utf8');
  if (!text.startsWith('#!')) fs.writeFileSync(file, '#!/usr/bin/env node\n' + text);
  fs.chmodSync(file, 0o755);
}

function listJs(dir, prefix = '') {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...listJs(path.join(dir, entry.name), rel));
    else if (entry.name.endsWith('.js')) out.push(rel);
  }
  return out;
}

/**
 * esbuild escapes non-ASCII in strings, not in comments and regular expressions: a dozen
 * characters (dashes in comments, curly quotes in a regex) made V8 hold the whole 0.7 MB
 * source as a two-byte string, ~0.7 MB more of the agent's RSS on the board. Every one
 * becomes its \uXXXX escape, which means the same character in a regex, a string or a
 * template, and is only text in a comment.
 */
function asciiOnly(file) {
  const source = fs.readFileSync(file, 'utf8');
  const ascii = source.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== source) fs.writeFileSync(file, ascii);
}

async function bundleAgent() {
  const entry = path.join(dist, 'agent', 'main.js');
  if (!fs.existsSync(entry)) return;
  const esbuild = require('esbuild');
  await esbuild.build({
    entryPoints: [entry],
    outfile: path.join(dist, 'axagent.js'),
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    minify: false,
    legalComments: 'none',
    // Optional native speed-ups of ws; the pure-JS fallbacks are used on the board.
    external: ['bufferutil', 'utf-8-validate', '@serialport/bindings-cpp', 'serialport'],
    logLevel: 'warning',
  });
  asciiOnly(path.join(dist, 'axagent.js'));
  makeExecutable('axagent.js');
}

async function main() {
  // dist/ is not wiped first: tests running meanwhile may be using it (`npm run clean` does).
  // The protocol's static encoders first: TypeScript compiles them with the rest.
  await require('./proto-static.js').writeStaticCode();
  const typesOk = tsc();
  // Every compiled entry point whose source starts with a shebang becomes executable
  // (the CLIs, the board simulator's run_joint, the pulsar stand-in).
  for (const rel of listJs(dist)) {
    const head = fs.readFileSync(path.join(dist, rel), 'utf8').slice(0, 2);
    if (head === '#!') makeExecutable(rel);
  }
  await bundleAgent();
  if (!typesOk) {
    console.error('build: TypeScript reported errors (see above)');
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(`build: ${err && err.message ? err.message : err}`);
  process.exit(1);
});
