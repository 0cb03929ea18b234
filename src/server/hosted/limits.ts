/**
 * Every bound and quota of the hosted services (dropbox, blobs, data leases)
 * in one place; docs/hosted.md quotes them. Deployment knobs that operators
 * change without a code change are vars in wrangler.toml instead
 * (DROPBOX_TTL_DAYS, MAX_BLOB_BYTES).
 */
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const HOSTED_LIMITS = {
  // ---- dropbox ----
  /** Drops waiting for one target (an identity or a synod): count and entry bytes. */
  dropsPerTarget: 200,
  dropBytesPerTarget: 2 * MiB,
  /** Drops one sender has waiting anywhere: count and entry bytes. */
  dropsPerSender: 100,
  dropBytesPerSender: 1 * MiB,
  /** Waiting drops announced to a socket when it joins (oldest first); the rest after acknowledgements, on a later join. */
  noticesPerJoin: 1_000,
  /** Used when DROPBOX_TTL_DAYS is missing or not a positive number. */
  defaultDropTtlDays: 14,

  // ---- blobs (HTTP, R2) ----
  /** Used when MAX_BLOB_BYTES is missing or not a positive integer. */
  defaultMaxBlobBytes: 64 * MiB,
  /** Bytes of blobs one identity may have stored (as first uploader). */
  blobBytesPerIdentity: 1 * GiB,
  /** Multipart part size: bodies up to this are verified in memory and put at once; larger ones stream in parts of this size. */
  partBytes: 8 * MiB,
  /** A blob nobody leases is kept this long after its (last) upload, like a drop that may point at it. */
  blobGraceMs: 14 * 24 * 3600_000,
  /** Largest blob the room sends as `blob` frames over a WebSocket; larger ones are fetched with HTTP GET. */
  roomBlobBytes: 16 * MiB,
  /** A directory blob is read for its items (to keep a leased collection whole) up to this size. */
  directoryBytes: 2 * MiB,
  /** Blob references recorded for one lease (direct and through directories). */
  refsPerLease: 50_000,

  // ---- data leases ----
  /** Entries in one leased feed. */
  entriesPerLease: 20_000,
  /** UTF-8 bytes of all entries of one leased feed. */
  entryBytesPerLease: 64 * MiB,
  /** Live leases one session identity may hold (itself, its synod, its synod's other devices...). */
  leasesPerHolder: 32,
  /** Lease jobs (feed pulls) running at once on one socket. */
  pullsPerSocket: 2,
  /** The room waits this long for each `entries` answer to its `get_feed`. */
  pullAnswerMs: 10_000,
  /** A whole pull gives up after this long. */
  pullTotalMs: 5 * 60_000,
  /** After this many get_feed round trips a pull paces itself (the socket's rate limit is 50 frames/s). */
  pullBurst: 60,
  pullPaceMs: 25,
  /** Entries stored per D1 batch while committing a pull. */
  storeBatch: 50,
  /** A synod feed longer than this is not folded for membership checks (claims decide instead). */
  synodStateEntries: 2_000,

  // ---- cleanup (scheduled) ----
  /** Rows one cleanup statement deletes. */
  cleanupBatch: 500,
  /** Statements per table per cleanup run; what is left waits for the next run. */
  cleanupRounds: 20,
  /** Leased entries of no lease are kept this long (a pull in progress stores entries before its lease row). */
  orphanGraceMs: 15 * 60_000,
} as const;

/** D1 allows 100 bound parameters per statement; IN lists are chunked below it. */
export const D1_MAX_PARAMS = 90;

export function dropTtlMs(value: string | undefined): number {
  const days = Number(value);
  return (Number.isFinite(days) && days > 0 ? days : HOSTED_LIMITS.defaultDropTtlDays) * 24 * 3600_000;
}

export function maxBlobBytes(value: string | undefined): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : HOSTED_LIMITS.defaultMaxBlobBytes;
}
