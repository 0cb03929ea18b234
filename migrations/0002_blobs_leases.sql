-- Hosted storage beyond the dropbox (docs/hosted.md): blob accounting for
-- R2, and data leases (an identity's feed held for a period, with the blobs
-- its entries reference). Every row is found by the scheduled cleanup
-- through an indexed expiry or an indexed owner.

-- Quotas and cleanup look drops up by sender too.
CREATE INDEX drops_sender ON drops (sender);

-- One row per blob object in R2 (key = the hash text), written only after the
-- object is complete and verified. `owner` is the identity whose quota it
-- counts against (the first uploader). Kept until `expires_at`, and after
-- that for as long as a live lease references it.
CREATE TABLE blobs (
  hash       TEXT PRIMARY KEY,
  size       INTEGER NOT NULL,
  owner      TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX blobs_owner ON blobs (owner);
CREATE INDEX blobs_expires_at ON blobs (expires_at);

-- One lease per identity: its feed from `head` back to the root is held
-- until `expires_at`. `holder` is the session identity that last called.
CREATE TABLE leases (
  identity   TEXT PRIMARY KEY,
  head       TEXT NOT NULL,
  comparable INTEGER NOT NULL,
  entries    INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  holder     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  renewed_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX leases_holder ON leases (holder);
CREATE INDEX leases_expires_at ON leases (expires_at);

-- The entries of leased feeds, validated and chain-checked before storing.
-- An entry's hash names it everywhere, and only its signer can have made it.
-- `pull` is set while the pull that stored it is in progress and cleared
-- when it commits: the committed entries of an identity are exactly the
-- chain from its lease's head to the root.
CREATE TABLE leased_entries (
  hash       TEXT PRIMARY KEY,
  identity   TEXT NOT NULL,
  parent     TEXT,
  comparable INTEGER NOT NULL,
  synod      TEXT,
  size       INTEGER NOT NULL,
  text       TEXT NOT NULL,
  stored_at  INTEGER NOT NULL,
  pull       TEXT
);
CREATE INDEX leased_entries_identity ON leased_entries (identity, pull);
CREATE INDEX leased_entries_pull ON leased_entries (pull);

-- One pull (server fetching a feed for a lease) per identity at a time,
-- across every room; a row older than the pull time limit is stale.
CREATE TABLE lease_pulls (
  identity   TEXT PRIMARY KEY,
  pull       TEXT NOT NULL,
  started_at INTEGER NOT NULL
);

-- Blobs a leased entry references (image.blob, collection.root and, once the
-- directory blob is held, everything under it; identification.avatar).
CREATE TABLE leased_refs (
  identity TEXT NOT NULL,
  entry    TEXT NOT NULL,
  hash     TEXT NOT NULL,
  kind     TEXT NOT NULL,
  PRIMARY KEY (identity, entry, hash)
);
CREATE INDEX leased_refs_hash ON leased_refs (hash);
CREATE INDEX leased_refs_entry ON leased_refs (entry);
