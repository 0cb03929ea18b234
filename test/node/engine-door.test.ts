/**
 * The engine's layers: web reaches src/peer only through web/src/engine.ts,
 * which reaches it only through src/peer/index.ts; src/peer never reaches
 * into the server or the app; neither has an import cycle.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, importGraph } from '../support/imports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const graph = importGraph(ROOT, ['src/peer', 'web/src']);
const edges = [...graph].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));

describe('engine layers', () => {
  it('sees the files and their imports (the graph is not empty)', () => {
    expect(graph.get('web/src/engine.ts')).toContain('src/peer/index.ts');
    expect(edges.filter((e) => e.from.startsWith('web/src/ui/')).length).toBeGreaterThan(20);
  });

  it('web reaches the engine only through engine.ts, and engine.ts only through src/peer/index.ts', () => {
    const intoPeer = edges.filter((e) => e.from.startsWith('web/') && e.to.startsWith('src/peer/'));
    expect(intoPeer.length).toBeGreaterThan(0);
    expect(intoPeer.filter((e) => e.from !== 'web/src/engine.ts' || e.to !== 'src/peer/index.ts')).toEqual([]);
  });

  it('src/peer imports only itself and src/protocol', () => {
    const outside = edges.filter((e) => e.from.startsWith('src/peer/') && !/^src\/(peer|protocol)\//.test(e.to));
    expect(outside).toEqual([]);
  });

  it('has no import cycle in src/peer or web/src', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const looped = new Map(graph);
    looped.set('src/peer/events.ts', [...(graph.get('src/peer/events.ts') ?? []), 'src/peer/peer.ts']);
    expect(cycles(looped).some((c) => c.includes('src/peer/events.ts') && c.includes('src/peer/peer.ts'))).toBe(true);
  });
});
