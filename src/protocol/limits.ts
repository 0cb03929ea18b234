/** Every bound of the protocol in one place: the spec quotes these numbers. */
export const LIMITS = {
  /** Design, Chain validity: "All entries need to be less than 15K". UTF-8 bytes of the whole entry. */
  entryBytes: 15 * 1024,
  /** A wire frame: one entry plus envelope fields, or one blob chunk, fits with room to spare. */
  frameBytes: 64 * 1024,
  /** Raw bytes in one `blob` chunk frame (base64url grows it by 4/3). */
  blobChunkBytes: 32 * 1024,
  /** Largest blob a peer will ask for by default. */
  blobBytes: 64 * 1024 * 1024,
  /** Items in one list message (iwant, get_heads, presence_list, ...): a full list still fits one frame. */
  listItems: 512,
  /** Waiting drops announced in one `drops` frame. */
  dropNotices: 200,
  /** Entries in one `entries` frame; senders also stop short of the frame limit. */
  feedBatch: 256,
  /** Entries one `get_feed` may ask for: more than `feedBatch` are answered in several `entries` frames. */
  feedLimit: 16_384,
  /** Data bytes in one binary blob chunk (§13.1): with its header, a binary message stays within `frameBytes`. */
  blobBinaryBytes: 63 * 1024,
  /** Identities in the interest list one peer may register with another (`interests`, §13.7). */
  interestItems: 20_000,
  /** `message_to` payload as JSON text, bytes. */
  messageBytes: 48 * 1024,
  /** Arrays and objects nested in one frame, the frame itself included: a receiver that walks a payload recursively never runs out of stack. */
  jsonDepth: 32,
  /** A compressed relay payload (`z`, §13.6) once inflated, bytes. */
  relayInflatedBytes: 512 * 1024,
  /** A session description in a peer signal (§13.6); a video offer is a few KiB. */
  sdpChars: 32 * 1024,
  /** One ICE candidate line in a peer signal. */
  candidateChars: 1024,
  /** A reason given in a peer signal (a relay closed, a negotiation or call ended). */
  reasonChars: 200,
  textChars: 10_000,
  nameChars: 64,
  aboutChars: 1_000,
  tagChars: 64,
  urlChars: 512,
  servers: 16,
  /** Readers of one envelope. */
  envelopeReaders: 64,
  /** Entries in a directory blob. */
  directoryItems: 4096,
  challengeBytes: 32,
} as const;
