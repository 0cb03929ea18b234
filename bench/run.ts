// `npm run bench`: runs each suite listed below in order (or only those
// named: `npm run bench -- browser reconnect`). A suite is a module whose
// default export is an async function that prints its own results.
// npm runs this inside the loopback-only network namespace
// (scripts/in-netns.mjs), as it runs the tests.
type Suite = { name: string; load: () => Promise<{ default: () => Promise<void> }> };

const suites: Suite[] = [
  { name: 'protocol', load: () => import('./protocol.bench.ts') },
  { name: 'room', load: () => import('./room.bench.ts') },
  { name: 'hosted', load: () => import('./hosted.bench.ts') },
  { name: 'slow uploads', load: () => import('./slow-uploads.bench.ts') },
  { name: 'hosted load', load: () => import('./hosted-load.bench.ts') },
  { name: 'replication', load: () => import('./replication.bench.ts') },
  { name: 'reconnect', load: () => import('./reconnect.bench.ts') },
  { name: 'browser', load: () => import('./browser.bench.ts') },
  { name: 'recovery', load: () => import('./recovery.bench.ts') },
  { name: 'push', load: () => import('./push.bench.ts') },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !suites.some((s) => s.name === w));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; suites are ${suites.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const chosen = wanted.length > 0 ? suites.filter((s) => wanted.includes(s.name)) : suites;

console.log(`Effigy benchmarks: node ${process.version}, ${chosen.length} suite(s)`);
for (const suite of chosen) {
  console.log(`\n## ${suite.name}`);
  const { default: run } = await suite.load();
  await run();
}

// A module, so top-level await is allowed.
export {};
