// Imports run one way: no source file imports a file that imports it back, directly or through others.
// The graph is esbuild's: it resolves imports as the build does and leaves out type-only imports, which
// no bundle keeps. Every file tsconfig.json type-checks is an entry point, whether a bundle reaches it or not.
import { build } from 'esbuild';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from './helpers/fixtures.ts';

/** Folders whose files may take part in no cycle; '' is the whole tree. */
const ACYCLIC = [''];

type Graph = Map<string, string[]>;

function sourceFiles(): string[] {
  const { include, exclude } = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8'));
  const walk = (path: string): string[] => {
    if (exclude.includes(path)) return [];
    if (!statSync(join(repoRoot, path)).isDirectory()) return [path];
    return readdirSync(join(repoRoot, path)).flatMap((name) => walk(`${path}/${name}`));
  };
  // a pattern in `include` ("*.ts") names files at the root
  const files = include.flatMap((entry: string) =>
    (entry.startsWith('*') ? readdirSync(repoRoot).filter((f) => f.endsWith(entry.slice(1))) : walk(entry)));
  return files.filter((path: string) => path.endsWith('.ts') && !path.endsWith('.d.ts'));
}

async function importGraph(): Promise<Graph> {
  const { metafile } = await build({
    absWorkingDir: repoRoot, entryPoints: sourceFiles(), bundle: true, splitting: true, format: 'esm',
    platform: 'node', packages: 'external', loader: { '.wgsl': 'empty', '.wasm': 'empty' },
    outdir: 'imports-check', write: false, metafile: true, logLevel: 'silent',
  });
  return new Map(Object.entries(metafile.inputs).map(([file, { imports }]) =>
    [file, imports.filter((i) => !i.external).map((i) => i.path)]));
}

/** The strongly connected components of more than one file, or of one that imports itself (Tarjan). */
function cyclicComponents(graph: Graph): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** A shortest cycle through the component's first file, as "a → b → a". */
function cycleThrough(graph: Graph, component: string[]): string {
  const start = component[0], members = new Set(component);
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const w of graph.get(queue[i]) ?? []) {
      if (w === start) {
        const path = [start];
        for (let v = queue[i]; v !== start; v = parent.get(v)!) path.splice(1, 0, v);
        return [...path, start].join(' → ');
      }
      if (members.has(w) && !parent.has(w)) {
        parent.set(w, queue[i]);
        queue.push(w);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}

test('the cycle finder names each cycle and passes a one-way graph', () => {
  const graph: Graph = new Map([
    ['a.ts', ['b.ts']], ['b.ts', ['c.ts', 'd.ts']], ['c.ts', ['a.ts']], ['d.ts', []], ['e.ts', ['e.ts']],
  ]);
  assert.equal(cyclicComponents(graph).map((c) => cycleThrough(graph, c)).sort(),
               ['a.ts → b.ts → c.ts → a.ts', 'e.ts → e.ts']);
  assert.equal(cyclicComponents(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
});

test(`no import cycle in ${ACYCLIC.map((d) => d || 'the whole tree').join(', ')}`, async () => {
  const graph = await importGraph();
  assert.ok([...graph.keys()].some((f) => f.startsWith('engine/')), 'the graph holds the engine');
  const cycles = cyclicComponents(graph)
    .filter((component) => component.some((f) => ACYCLIC.some((dir) => f.startsWith(dir))))
    .map((component) => `${cycleThrough(graph, component)} (one knot of ${component.length} files: ${component.join(', ')})`);
  assert.equal(cycles, [], `import cycles:\n${cycles.join('\n')}`);
});

test.run();
