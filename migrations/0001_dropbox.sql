-- Dropbox index: signed entries left for an offline recipient. The blob
-- itself lives in R2 under its hash; rows expire after DROPBOX_TTL_DAYS.
CREATE TABLE drops (
  hash       TEXT PRIMARY KEY,
  target     TEXT NOT NULL,
  sender     TEXT NOT NULL,
  entry      TEXT NOT NULL,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX drops_target ON drops (target);
CREATE INDEX drops_expires_at ON drops (expires_at);
