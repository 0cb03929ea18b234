#!/usr/bin/env node
/**
 * The import graph of src/ and web/src/: prints every import cycle (strongly
 * connected components of two or more files, or a file importing itself) and
 * the largest source files. Exits 1 when there is a cycle, so `npm test` can
 * refuse one.
 *
 *   node scripts/imports.mjs [--top N] [--max-lines N] [--root DIR] [--quiet]
 *
 * `npm run imports` prints the report; `npm test` runs it with --quiet, which
 * prints only cycles.
 *
 * It reads the import lines with the TypeScript compiler's own pre-parser
 * (ts.preProcessFile: static imports, re-exports, `import()`), so comments and
 * strings that look like imports are not mistaken for them. Type-only imports
 * count: they tie modules together for a reader just the same.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const root = resolve(option('--root', process.cwd()));
const top = Number(option('--top', '10'));
const maxLines = Number(option('--max-lines', '350'));
const quiet = args.includes('--quiet');
const DIRS = ['src', 'web/src'];
const EXTENSIONS = ['.ts', '.tsx'];

function sourceFiles(dir) {
  const out = [];
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (EXTENSIONS.some((e) => name.endsWith(e)) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const files = DIRS.flatMap((d) => sourceFiles(join(root, d))).sort();
const known = new Set(files);

/** The file a relative specifier names, or null for packages and anything outside the tree. */
function resolveImport(from, specifier) {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, ...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => join(base, `index${e}`))]) {
    if (known.has(candidate)) return candidate;
  }
  return null;
}

const edges = new Map();
const lines = new Map();
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  lines.set(file, text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const targets = new Set();
  for (const { fileName } of importedFiles) {
    const target = resolveImport(file, fileName);
    if (target) targets.add(target);
  }
  edges.set(file, [...targets].sort());
}

/** Tarjan's strongly connected components. */
function components() {
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const indexOf = new Map();
  const low = new Map();
  const out = [];
  const visit = (v) => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), indexOf.get(w)));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      out.push(component);
    }
  };
  for (const file of files) if (!indexOf.has(file)) visit(file);
  return out;
}

/** One shortest loop through `start` inside its component, to show how the files close the circle. */
function loopThrough(start, members) {
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of edges.get(v)) {
      if (w === start) {
        const path = [start];
        for (let at = v; at !== start; at = previous.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (members.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

const name = (file) => relative(root, file);
const cycles = components()
  .filter((c) => c.length > 1 || edges.get(c[0]).includes(c[0]))
  .map((c) => c.sort())
  .sort((a, b) => b.length - a.length);

if (quiet && cycles.length === 0) process.exit();

console.log(`import graph: ${files.length} files under ${DIRS.join(', ')}`);
if (cycles.length === 0) {
  console.log('cycles: 0');
} else {
  console.log(`cycles: ${cycles.length} (files importing each other, directly or round a loop)`);
  for (const [i, cycle] of cycles.entries()) {
    console.log(`\n  ${i + 1}. ${cycle.length} files:`);
    for (const file of cycle) console.log(`     ${name(file)}`);
    console.log(`     e.g. ${loopThrough(cycle[0], new Set(cycle)).map(name).join(' → ')}`);
  }
}

if (!quiet) {
  const largest = [...lines].sort((a, b) => b[1] - a[1]);
  const over = largest.filter(([, n]) => n > maxLines);
  console.log(`\nlargest files (${over.length} over ${maxLines} lines):`);
  for (const [file, n] of largest.slice(0, top)) console.log(`  ${String(n).padStart(5)}  ${name(file)}${n > maxLines ? '  (over)' : ''}`);
}

process.exitCode = cycles.length > 0 ? 1 : 0;
