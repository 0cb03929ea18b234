// `npm run bench`: runs each suite listed below in order. A suite is a module
// whose default export is an async function that prints its own results.
type Suite = { name: string; load: () => Promise<{ default: () => Promise<void> }> };

const suites: Suite[] = [
  { name: 'protocol', load: () => import('./protocol.bench.ts') },
  { name: 'room', load: () => import('./room.bench.ts') },
  { name: 'hosted', load: () => import('./hosted.bench.ts') },
  { name: 'replication', load: () => import('./replication.bench.ts') },
];

// `npm run bench -- room` runs only the suites named.
const wanted = process.argv.slice(2);
const chosen = wanted.length > 0 ? suites.filter((s) => wanted.includes(s.name)) : suites;
console.log(`Effigy benchmarks: node ${process.version}, ${chosen.length} suite(s)`);
for (const suite of chosen) {
  console.log(`\n## ${suite.name}`);
  const { default: run } = await suite.load();
  await run();
}

// A module, so top-level await is allowed.
export {};
