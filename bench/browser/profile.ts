/**
 * Where the main thread's time goes: a CPU profile's self time grouped by
 * source module (the unminified bench bundle names each module in a
 * `// path` line above its code) and by function.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from '../table.ts';
import type { CpuProfile } from './chromium.ts';

/** For each bundle file: the first line of each module, sorted. */
export function moduleMap(pageDir: string): Map<string, { line: number; module: string }[]> {
  const map = new Map<string, { line: number; module: string }[]>();
  for (const file of readdirSync(join(pageDir, 'assets')).filter((f) => f.endsWith('.js'))) {
    const marks: { line: number; module: string }[] = [];
    readFileSync(join(pageDir, 'assets', file), 'utf8')
      .split('\n')
      .forEach((text, line) => {
        const m = /^\/\/ ((?:src|bench|node_modules|web)\/\S+\.[jt]sx?)$/.exec(text);
        if (m) marks.push({ line, module: m[1] as string });
      });
    map.set(file, marks);
  }
  return map;
}

function moduleOf(map: Map<string, { line: number; module: string }[]>, url: string, line: number): string | null {
  const marks = map.get(url.slice(url.lastIndexOf('/') + 1));
  if (!marks) return null;
  let found: string | null = null;
  for (const m of marks) {
    if (m.line > line) break;
    found = m.module;
  }
  return found;
}

/** The module holding a character offset of the page's script (long-animation-frame attributions give offsets). */
export function moduleAtChar(script: string): (at: number) => string {
  const text = readFileSync(script, 'utf8');
  const marks = [...text.matchAll(/^\/\/ ((?:src|bench|node_modules|web)\/\S+\.[jt]sx?)$/gm)].map((m) => ({
    at: m.index,
    module: m[1] as string,
  }));
  return (at) => short(marks.filter((m) => m.at <= at).pop()?.module ?? '?');
}

/** Shorter names for the table: node_modules/zod/v4/core/x.js → zod (x.js). */
const short = (module: string) => {
  const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:.*\/)?([^/]+)$/.exec(module);
  return m ? `${m[1]} (${m[2]})` : module;
};

export interface ProfileSummary {
  totalMs: number;
  modules: Row[];
  functions: Row[];
}

export function summarize(profile: CpuProfile, map: Map<string, { line: number; module: string }[]>, top = 12): ProfileSummary {
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(profile.samples[i] as number, (self.get(profile.samples[i] as number) ?? 0) + dt);
  }
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0) continue;
    total += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    const special = /^\(.*\)$/.test(functionName) ? functionName : null;
    const module = special ?? (url ? (moduleOf(map, url, lineNumber) ?? url) : `(native)`);
    const name = special ?? `${functionName || '(anonymous)'} · ${short(module)}`;
    byModule.set(short(module), (byModule.get(short(module)) ?? 0) + ms);
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  const rows = (m: Map<string, number>, key: string): Row[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ [key]: k, 'self ms': ms, '% of profile': (100 * ms) / total }));
  return { totalMs: total, modules: rows(byModule, 'module'), functions: rows(byFunction, 'function') };
}
