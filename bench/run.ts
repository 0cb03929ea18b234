// `npm run bench`: runs each suite listed below in order. A suite is a module
// whose default export is an async function that prints its own results.
type Suite = { name: string; load: () => Promise<{ default: () => Promise<void> }> };

const suites: Suite[] = [
  { name: 'protocol', load: () => import('./protocol.bench.ts') },
  { name: 'room', load: () => import('./room.bench.ts') },
  { name: 'hosted', load: () => import('./hosted.bench.ts') },
  { name: 'slow uploads', load: () => import('./slow-uploads.bench.ts') },
  { name: 'hosted load', load: () => import('./hosted-load.bench.ts') },
  { name: 'replication', load: () => import('./replication.bench.ts') },
];

console.log(`Effigy benchmarks: node ${process.version}, ${suites.length} suite(s)`);
for (const suite of suites) {
  console.log(`\n## ${suite.name}`);
  const { default: run } = await suite.load();
  await run();
}

// A module, so top-level await is allowed.
export {};
