-- A public endpoint that holds (issue 14, docs/hosted.md "Running a public
-- endpoint"): budgets per client address and for the whole server, single-use
-- signed requests, rate windows, upload slots, and the follows of leased feeds
-- (a target's friends get through a full dropbox).

-- The client address (its budget key: an IPv4 address or an IPv6 /64) that
-- stored each drop, blob and lease; '' for rows from before this migration.
ALTER TABLE drops ADD COLUMN ip TEXT NOT NULL DEFAULT '';
CREATE INDEX drops_ip ON drops (ip, target);
CREATE INDEX drops_target_sender ON drops (target, sender);
ALTER TABLE blobs ADD COLUMN ip TEXT NOT NULL DEFAULT '';
CREATE INDEX blobs_ip ON blobs (ip);
ALTER TABLE leases ADD COLUMN ip TEXT NOT NULL DEFAULT '';
CREATE INDEX leases_ip ON leases (ip);

-- Follows and blocks of leased feeds: `kind` is 'follow' or 'block', `subject`
-- the identity it names (NULL for every other entry).
ALTER TABLE leased_entries ADD COLUMN kind TEXT;
ALTER TABLE leased_entries ADD COLUMN subject TEXT;
UPDATE leased_entries
   SET kind = json_extract(substr(text, 1, instr(text, char(10)) - 1), '$.payload.type'),
       subject = json_extract(substr(text, 1, instr(text, char(10)) - 1), '$.payload.identity')
 WHERE json_extract(substr(text, 1, instr(text, char(10)) - 1), '$.payload.type') IN ('follow', 'block');
CREATE INDEX leased_entries_subject ON leased_entries (subject, kind) WHERE subject IS NOT NULL;

-- What the whole server stores, per kind ('drops', 'blobs', 'leases'): raised
-- as rows are stored, recounted exactly by the scheduled cleanup (which is
-- also when deletions are subtracted), so between runs it errs high.
CREATE TABLE usage_totals (
  scope TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL,
  items INTEGER NOT NULL,
  counted_at INTEGER NOT NULL
);
INSERT INTO usage_totals (scope, bytes, items, counted_at)
  SELECT 'drops', COALESCE(SUM(size), 0), COUNT(*), 0 FROM drops;
INSERT INTO usage_totals (scope, bytes, items, counted_at)
  SELECT 'blobs', COALESCE(SUM(size), 0), COUNT(*), 0 FROM blobs;
INSERT INTO usage_totals (scope, bytes, items, counted_at)
  SELECT 'leases', COALESCE(SUM(bytes), 0), COUNT(*), 0 FROM leases;

-- Signed requests already accepted (docs/protocol.md §15.3): the signature
-- names the request, and is remembered until its time leaves the window.
CREATE TABLE request_nonces (
  signature  TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX request_nonces_expires_at ON request_nonces (expires_at);

-- Fixed-window counters (TURN minting per identity and per address).
CREATE TABLE rate_windows (
  key       TEXT NOT NULL,
  period    INTEGER NOT NULL,
  count     INTEGER NOT NULL,
  PRIMARY KEY (key, period)
);

-- Blob uploads in flight, capped per identity and per address; a row past its
-- deadline is a crashed upload's and no longer counts.
CREATE TABLE upload_slots (
  id       TEXT PRIMARY KEY,
  identity TEXT NOT NULL,
  ip       TEXT NOT NULL,
  deadline INTEGER NOT NULL
);
CREATE INDEX upload_slots_identity ON upload_slots (identity, deadline);
CREATE INDEX upload_slots_ip ON upload_slots (ip, deadline);
