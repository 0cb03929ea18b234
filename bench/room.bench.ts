/**
 * The room server against the local Worker (`wrangler dev --local`, what
 * `npm start` runs), with PeerJS's signalling server (`peer` from npm) on the
 * same machine as the baseline where it has an equivalent, driven by the same
 * Node process. Every measurement runs ROOM_BENCH_ROUNDS times (3), each in a
 * fresh room (a fresh Worker per table and size); tables give the median and
 * the range.
 *
 * - N clients in one room (N = 10, 100, 500): join (Effigy: WebSocket +
 *   Ed25519 session both ways + provides; PeerJS: WebSocket + OPEN, BATCH at a
 *   time); presence → all N watchers (a newcomer every client watches, from
 *   its session_auth until all N have it; PeerJS: the newcomer sends one
 *   message to each); message_to RTT p50/p99 (one round trip in flight,
 *   cycling over pairs); relayed msgs/s (every client sends K to its
 *   neighbour at once, K within the room's rate burst).
 * - Presence frames per join in a burst of 500 (room-presence.ts).
 * - A reconnect storm of ROOM_BENCH_STORM clients (2,000).
 * - Events/s at the busiest object at 1/100 of the capacity model, 8 shards and 1.
 * - D1 rows and bytes per drop and per leased entry (room-cost.ts).
 * ROOM_BENCH_LEGACY=1 measures the room as it was before presence by
 * interest (room-effigy.ts); ROOM_BENCH_ONLY=relay,burst,storm,load,cost picks tables.
 * Every wait has a deadline, so the suite always ends.
 */
import { ROOM_LIMITS } from '../src/server/room/limits.ts';
import { startLocalWorker } from '../test/support/local-worker.ts';
import { LEGACY } from './room-effigy.ts';
import { hostedCost, type CostResult } from './room-cost.ts';
import { burst, keysFor, load, storm, type BurstResult, type LoadResult } from './room-presence.ts';
import { effigyDriver, inBatches, measure, NEWCOMERS, peerjsDriver, RELAY_TOTAL, startPeerServer, type Result } from './room-relay.ts';
import { printTable, type Row } from './table.ts';

const SIZES = (process.env.ROOM_BENCH_SIZES ?? '10,100,500').split(',').map(Number);
const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const log = (line: string) => process.stderr.write(`[room bench] ${line}\n`);

const ROUNDS = Number(process.env.ROOM_BENCH_ROUNDS ?? 3);
const ONLY = new Set((process.env.ROOM_BENCH_ONLY ?? 'relay,burst,storm,load,cost').split(','));
const STORM_N = Number(process.env.ROOM_BENCH_STORM ?? (LEGACY ? 500 : 2000));
const BURST_N = Number(process.env.ROOM_BENCH_BURST ?? 500);
/** Every bench room has 8 shards, as the hot room "main" has in wrangler.toml; ROOM_BENCH_SHARDS (a count) overrides it. */
// Every bench client dials from the one loopback address: the budgets per address are for the public (docs/hosted.md §10.2).
const STATS: Record<string, string> = {
  ROOM_STATS: '1',
  ROOM_SHARDS: process.env.ROOM_BENCH_SHARDS ?? '*=8',
  ROOM_SOCKETS_PER_ADDRESS: '100000',
  ROOM_PENDING_PER_ADDRESS: '100000',
};

/** Median [min–max] of several rounds. */
function summary(values: number[]): { median: number; text: string } {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { median, text: sorted.length > 1 ? `${fmt(median)} [${fmt(sorted[0]!)}–${fmt(sorted.at(-1)!)}]` : fmt(median) };
}

async function withWorker<T>(vars: Record<string, string>, run: (url: string) => Promise<T>): Promise<T> {
  const worker = await startLocalWorker({ vars: LEGACY ? {} : vars });
  try {
    return await run(worker.url);
  } catch (err) {
    const logs = worker
      .logs()
      .split('\n')
      .filter((l) => !/Switching Protocols|GET \/health|Request\.cf|ENOTFOUND/.test(l));
    log(`failed: ${(err as Error).message}\nthe local Worker's last log lines:\n${logs.slice(-30).join('\n')}`);
    throw err;
  } finally {
    await worker.stop();
  }
}

async function relayTable(): Promise<void> {
  const rows: Row[] = [];
  const metrics: [string, keyof Result][] = [
    ['join N clients (ms)', 'joinMs'],
    ['presence → all N watchers (ms)', 'onlineMs'],
    ['message_to RTT p50 (ms)', 'rttP50'],
    ['message_to RTT p99 (ms)', 'rttP99'],
    ['relayed msgs/s', 'relayRate'],
  ];
  for (const n of SIZES) {
    const effigy: Result[] = [];
    const peerjs: Result[] = [];
    // A fresh Worker and PeerJS server per N, and a fresh room per round, so no run inherits another's clients.
    await withWorker(STATS, async (url) => {
      const peerServer = await startPeerServer();
      try {
        for (let round = 0; round < ROUNDS; round++) {
          log(`N=${n} round ${round + 1}: Effigy`);
          effigy.push(await measure(effigyDriver(url, await keysFor(NEWCOMERS)), `bench-${n}-${round}`, n));
          log(`N=${n} round ${round + 1}: PeerJS`);
          peerjs.push(await measure(peerjsDriver(peerServer.port), `bench-${n}-${round}`, n));
        }
      } finally {
        await peerServer.stop();
      }
    });
    for (const [label, key] of metrics) {
      const e = summary(effigy.map((r) => r[key]));
      const p = summary(peerjs.map((r) => r[key]));
      rows.push({ N: n, metric: label, Effigy: e.text, PeerJS: p.text, 'Effigy/PeerJS': (e.median / p.median).toFixed(2) });
    }
  }
  printTable(
    `room: N clients in one room, Effigy${LEGACY ? ' (before: one object, all-to-all)' : ''} vs PeerJS server, median [min–max] of ${ROUNDS}`,
    rows,
  );
  console.log(
    '\nRatios are of medians, Effigy/PeerJS: below 1 is better for times, above 1 for msgs/s.' +
      "\npresence → all N watchers: from the newcomer's session_auth until all N have it present (every client watches the newcomers). PeerJS has no presence: its baseline is the newcomer sending one message to each of the N." +
      `\nrelay: each client sends min(${ROOM_LIMITS.rateBurst - 10}, ${RELAY_TOTAL}/N) messages to its neighbour at once.`,
  );
}

async function burstTable(): Promise<void> {
  const rows: Row[] = [];
  for (const follows of LEGACY ? (['all'] as const) : (['all', 150] as const)) {
    const runs: BurstResult[] = [];
    await withWorker(STATS, async (url) => {
      for (let round = 0; round < ROUNDS; round++) {
        log(`burst N=${BURST_N}, follows ${follows}, round ${round + 1}`);
        runs.push(await burst(url, `burst-${follows}-${round}`, BURST_N, follows));
      }
    });
    rows.push({
      'who watches whom': follows === 'all' ? 'everyone everyone' : `each ${follows} others`,
      'presence frames per join': summary(runs.map((r) => r.framesPerJoin)).text,
      'join all (ms)': summary(runs.map((r) => r.joinMs)).text,
      'settled (ms)': summary(runs.map((r) => r.settleMs)).text,
      'DO SQLite bytes per member': LEGACY ? 'n/a' : summary(runs.map((r) => r.bytesPerMember)).text,
    });
  }
  printTable(
    `room: presence frames per join in a burst of N = ${BURST_N}${LEGACY ? ' (before)' : ''}, median [min–max] of ${ROUNDS}; PeerJS has no presence`,
    rows,
  );
}

async function stormTable(): Promise<void> {
  const follows = LEGACY ? ('all' as const) : 150;
  const runs = [];
  const peerjs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    log(`storm N=${STORM_N}, round ${round + 1}`);
    // A fresh Worker per round: a storm's 2,000 sockets and lists must not weigh on the next.
    runs.push(await withWorker(STATS, (url) => storm(url, `storm-${round}`, STORM_N, follows)));
    const server = await startPeerServer();
    try {
      const driver = peerjsDriver(server.port);
      const peers = await inBatches(STORM_N, () => driver.connect(`storm-${round}`));
      for (const p of peers) p.close();
      const t0 = performance.now();
      const back = await Promise.all(peers.map(() => driver.connect(`storm-${round}-back`)));
      peerjs.push(performance.now() - t0);
      for (const p of back) p.close();
    } finally {
      await server.stop();
    }
  }
  const settle = summary(runs.map((r) => r.settleMs));
  const base = summary(peerjs);
  printTable(
    `room: reconnect storm, N = ${STORM_N} clients drop and come back at once${LEGACY ? ' (before: everyone sees everyone)' : `, each watching ${follows}`}, median [min–max] of ${ROUNDS}`,
    [
      {
        metric: 'until presence is right everywhere (ms)',
        Effigy: settle.text,
        PeerJS: `${base.text} (all reconnected; no presence)`,
        'Effigy/PeerJS': (settle.median / base.median).toFixed(2),
      },
      { metric: 'presence frames, all clients', Effigy: summary(runs.map((r) => r.presenceFrames)).text, PeerJS: '', 'Effigy/PeerJS': '' },
      { metric: 'presence frames per client', Effigy: summary(runs.map((r) => r.framesPerClient)).text, PeerJS: '', 'Effigy/PeerJS': '' },
      { metric: 'frames of any kind, all clients', Effigy: summary(runs.map((r) => r.allFrames)).text, PeerJS: '', 'Effigy/PeerJS': '' },
      { metric: 'events at the busiest object', Effigy: summary(runs.map((r) => r.busiestEvents)).text, PeerJS: '', 'Effigy/PeerJS': '' },
      {
        metric: 'connections retried (handshake not done in 5 s)',
        Effigy: summary(runs.map((r) => r.retries)).text,
        PeerJS: '',
        'Effigy/PeerJS': '',
      },
    ],
  );
  console.log(
    '\nEffigy clients come back as the peer does: after 250–750 ms at random, then with jittered backoff; PeerJS clients all at once.',
  );
}

async function loadTable(): Promise<void> {
  const rows: Row[] = [];
  // 1/100 of the hot room: 100 members who all watch each other; a message_to every 10 s each (the model's
  // rate), then every 100 ms each (the whole 10k room's message rate through 1/100 of its sockets).
  for (const shards of LEGACY ? ['1'] : ['8', '1']) {
    for (const [label, everyMs, seconds] of [
      ['every 10 s (model rate, 1/100 members)', 10_000, 30],
      ['every 100 ms (the full room’s 1,000 msgs/s)', 100, 15],
    ] as const) {
      const runs: LoadResult[] = [];
      await withWorker({ ...STATS, ROOM_SHARDS: shards }, async (url) => {
        for (let round = 0; round < ROUNDS; round++) {
          log(`load: ${shards} shard(s), ${label}, round ${round + 1}`);
          runs.push(await load(url, `load-${everyMs}-${round}`, 100, everyMs, seconds));
        }
      });
      rows.push({
        shards: LEGACY ? '1 (before)' : shards,
        'message_to each': label,
        'events/s, busiest object': summary(runs.map((r) => r.busiestPerSecond)).text,
        'events/s, all objects': summary(runs.map((r) => r.allPerSecond)).text,
        'sockets, busiest': summary(runs.map((r) => r.socketsBusiest)).text,
        'RPC calls/s, all objects': summary(runs.map((r) => r.rpcPerSecond)).text,
        'ops per RPC call': LEGACY || shards === '1' ? '' : summary(runs.map((r) => r.opsPerCall)).text,
        'delivered/sent': summary(runs.map((r) => r.delivered / Math.max(1, r.sent))).text,
      });
    }
  }
  printTable(
    `room: the capacity model at 1/100 (100 members), median [min–max] of ${ROUNDS}; events = frames + RPC calls an object handled`,
    rows,
  );
}

async function costTable(): Promise<void> {
  if (LEGACY) return;
  const runs: CostResult[] = [];
  await withWorker(STATS, async (url) => {
    for (let round = 0; round < ROUNDS; round++) {
      log(`hosted cost, round ${round + 1}`);
      runs.push(await hostedCost(url, `cost-${round}`, 10, 20, 100));
    }
  });
  const m = (f: (r: CostResult) => number) => summary(runs.map(f)).text;
  printTable(`room: D1 per drop and per leased entry (10 peers, 100 drops, 5 leases of 100 entries), median [min–max] of ${ROUNDS}`, [
    {
      operation: 'store a drop (drop → ok)',
      'D1 rows read': m((r) => r.dropStore.read),
      'D1 rows written': m((r) => r.dropStore.written),
      'D1 bytes held': m((r) => r.dropStore.bytes),
    },
    {
      operation: 'collect a drop (drops → fetch_drops → drop_ack)',
      'D1 rows read': m((r) => r.dropCollect.read),
      'D1 rows written': m((r) => r.dropCollect.written),
      'D1 bytes held': '',
    },
    {
      operation: 'lease, per entry (call → get_feed pull → lease)',
      'D1 rows read': m((r) => r.leaseEntry.read),
      'D1 rows written': m((r) => r.leaseEntry.written),
      'D1 bytes held': m((r) => r.leaseEntry.bytes),
    },
  ]);
}

export default async function roomBench(): Promise<void> {
  if (LEGACY) log('legacy: measuring the room as it was before presence by interest');
  if (ONLY.has('relay')) await relayTable();
  if (ONLY.has('burst')) await burstTable();
  if (ONLY.has('storm')) await stormTable();
  if (ONLY.has('load')) await loadTable();
  if (ONLY.has('cost')) await costTable();
}
