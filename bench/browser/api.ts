/**
 * What the bench page offers the Node driver (`window.bench`). Times are the
 * page's `performance.now()` unless named `abs` (epoch milliseconds with
 * sub-millisecond precision: `performance.timeOrigin + performance.now()`),
 * which compare across the two profiles' pages on this one machine.
 */
export interface FeedInfo {
  identity: string;
  head: string;
  count: number;
  /** UTF-8 bytes of all entry texts. */
  bytes: number;
}

/** The script that ran longest in a long animation frame: who called it, its function, where it is in the page's bundle. */
export interface LongScript {
  invoker: string;
  fn: string;
  at: number;
  ms: number;
}

export interface LongTaskSummary {
  longtask: { count: number; longestMs: number };
  loaf: { count: number; longestMs: number; script?: LongScript };
}

export interface SyncResult {
  start: number;
  end: number;
  /** Store calls the engine made on the receiving side during the run, by method. */
  storeCalls: Record<string, number>;
  /** `sync` progress events the engine emitted. */
  progressEvents: number;
}

export type BlobResult = { ok: true; start: number; end: number } | { ok: false; error: string; start: number; end: number };

export interface BenchApi {
  /** Run `work` from a page timer, so long-task observers attribute its tasks (not from inside evaluate). */
  later<T>(work: () => Promise<T>): Promise<T>;
  longTasks(from: number, to: number): LongTaskSummary;
  /** Positive control: a 120 ms busy task started from the page; resolves with what the observers saw of it. */
  control(): Promise<LongTaskSummary>;

  makeFeed(count: number, feedText: (i: number) => string): Promise<FeedInfo>;
  makeFeeds(feeds: number, each: number): Promise<FeedInfo[]>;
  feedTexts(identity: string): string[];
  /** Write generated feeds into an engine IndexedDB store in one transaction, watched for `reasons`. */
  seedStore(db: string, identities: string[], reasons: string[]): Promise<void>;
  /** An account (synod with this device) in the app's store, as the start screen makes one. */
  seedAccount(db: string): Promise<string>;

  verifyRate(texts: string[]): Promise<number>;
  validateRate(texts: string[]): Promise<number>;
  idbOneTransaction(texts: string[], db: string): Promise<number>;
  idbPerEntry(texts: string[], db: string): Promise<number>;
  /** Entries/s read back one `getEntry` (one transaction) at a time, awaited in turn, from the `idbPerEntry` database. */
  idbGetEach(texts: string[], db: string): Promise<number>;
  idbTimelineRead(db: string, limit: number): Promise<{ ms: number; rows: number }>;

  rawOffer(): Promise<string>;
  rawAnswer(offer: string): Promise<string>;
  rawAccept(answer: string): Promise<void>;
  /** Receiver: start counting (before the sender starts). */
  rawArm(): void;
  /** Receiver: resolves when the sender's end marker arrives, with its abs time and the bytes before it. */
  rawArrived(): Promise<{ abs: number; bytes: number }>;
  /** Sender: entry texts packed into frames of at most `frameBytes`; resolves with the abs start time. */
  rawSendTexts(texts: string[], frameBytes: number): Promise<number>;
  rawSendBinary(bytes: number, chunkBytes: number): Promise<number>;
  /** The engine's blob framing on the bare channel: each 32 KiB chunk as a base64url `blob` JSON frame, the engine's water marks. */
  rawSendBlobFrames(bytes: number): Promise<number>;

  /** Links are by consent: the author's engine serves strangers (`pub`), the reader's names it as a pub. */
  openPeer(db: string, room: string, consent?: { pub?: boolean; pubs?: string[] }): Promise<string>;
  waitLink(peer: string, timeoutMs: number): Promise<string>;
  syncFrom(author: string, head: string, timeoutMs: number): Promise<SyncResult>;
  addBlob(bytes: number): Promise<{ hash: string; size: number }>;
  fetchBlob(hash: string, size: number): Promise<BlobResult>;
  closePeer(): Promise<void>;
  resetCalls(): void;
  storeCalls(): Record<string, number>;
}

declare global {
  interface Window {
    bench: BenchApi;
  }
}
