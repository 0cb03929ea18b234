/**
 * A D1 binding that adds up what each query cost, from the `meta` D1 returns
 * (rows read and written, the database size after): the bench reads it
 * through the room's stats (ROOM_STATS=1) to put numbers on the dropbox and
 * data leases (docs/capacity.md). Behaves as the binding it wraps.
 */
export interface D1Usage {
  d1Read: number;
  d1Written: number;
  /** The database size after the latest query, bytes. */
  d1Bytes: number;
}

export function meteredD1(db: D1Database, usage: D1Usage): D1Database {
  const tally = <R extends D1Result>(r: R): R => {
    usage.d1Read += r.meta?.rows_read ?? 0;
    usage.d1Written += r.meta?.rows_written ?? 0;
    if (r.meta?.size_after) usage.d1Bytes = r.meta.size_after;
    return r;
  };
  // D1's batch takes only its own statements: each wrapper remembers the one it wraps.
  const inner = new WeakMap<D1PreparedStatement, D1PreparedStatement>();
  const wrap = (s: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = {
      bind: (...values: unknown[]) => wrap(s.bind(...values)),
      run: async () => tally(await s.run()),
      all: async () => tally(await s.all()),
      // `first` returns no meta: it is answered from `all`, which costs the same rows.
      first: async (column?: string) => {
        const row = tally(await s.all<Record<string, unknown>>()).results[0] ?? null;
        return column === undefined ? row : ((row?.[column] ?? null) as never);
      },
      raw: s.raw.bind(s),
    } as unknown as D1PreparedStatement;
    inner.set(wrapped, s);
    return wrapped;
  };
  return new Proxy(db, {
    get(target, property) {
      if (property === 'prepare') return (query: string) => wrap(target.prepare(query));
      if (property === 'batch') {
        return async (statements: D1PreparedStatement[]) => (await target.batch(statements.map((s) => inner.get(s) ?? s))).map(tally);
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
