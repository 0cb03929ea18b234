/**
 * Fixed bounds of the hosted services (dropbox, blobs, data leases) in one
 * place; docs/hosted.md quotes them. What an operator changes without a
 * code change — terms, budgets, rates — are wrangler.toml vars instead
 * (settings.ts).
 */
const KiB = 1024;
const MiB = 1024 * KiB;

export const HOSTED_LIMITS = {
  // ---- dropbox ----
  /** Drops waiting for one target (an identity or a synod): count and entry bytes. */
  dropsPerTarget: 200,
  dropBytesPerTarget: 2 * MiB,
  /** Beyond that, drops from identities the target follows still get through, up to this many more (count and bytes). */
  trustedReserve: 200,
  trustedReserveBytes: 2 * MiB,
  /** Drops one sender has waiting anywhere: count and entry bytes. */
  dropsPerSender: 100,
  dropBytesPerSender: 1 * MiB,
  /** Drops one sender has waiting for one target. */
  dropsPerSenderPerTarget: 10,
  /** Drops left from one client address (IPv4, or IPv6 /64) waiting for one target. */
  dropsPerIpPerTarget: 50,
  /** Waiting drops announced to a socket when it joins (oldest first); the rest after acknowledgements, on a later join. */
  noticesPerJoin: 1_000,

  // ---- blobs (HTTP, R2) ----
  /** Multipart part size: bodies up to this go in one streaming put; larger ones stream in parts of this size. */
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

  // ---- synod membership ----
  /** A leased synod feed longer than this is not folded for membership checks. */
  synodStateEntries: 2_000,
  /** A synod chain a device shows (get_feed) is read to at most this many entries: every one is verified, once per (synod, head). */
  provenChainEntries: 1_000,
  /** Folded synod states kept in memory (per isolate), by synod and head. */
  synodStates: 256,

  // ---- cleanup (scheduled) ----
  /** Rows one cleanup statement deletes. */
  cleanupBatch: 500,
  /** Statements per table per cleanup run; what is left waits for the next run. */
  cleanupRounds: 20,
  /** Leased entries of no lease are kept this long (a pull in progress stores entries before its lease row). */
  orphanGraceMs: 15 * 60_000,
} as const;

/** D1 allows 100 bound parameters per statement; IN lists are chunked below it (or passed as one JSON array). */
export const D1_MAX_PARAMS = 90;
