-- Web Push (docs/protocol.md §15.6, docs/hosted.md §11): the push service
-- endpoints devices registered, by the identity they are woken for (the
-- device itself, and its synod when it proved membership). Never shown to
-- anyone; removed when the device unsubscribes, when the push service
-- answers 404 or 410, and when they expire (a device re-registers as it
-- starts).
CREATE TABLE push_subscriptions (
  identity   TEXT NOT NULL,   -- whom pushes are for: a device, or its synod
  endpoint   TEXT NOT NULL,   -- the push service URL (RFC 8030)
  device     TEXT NOT NULL,   -- the device that registered it (its signature)
  p256dh     TEXT NOT NULL,   -- the browser's key and auth secret (RFC 8291), base64url
  auth       TEXT NOT NULL,
  kinds      TEXT NOT NULL,   -- "message", "call" or "message call"
  ip         TEXT NOT NULL,   -- the registering client address's budget key ('' when none)
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (identity, endpoint)
);
CREATE INDEX push_subscriptions_endpoint ON push_subscriptions (endpoint);
CREATE INDEX push_subscriptions_device ON push_subscriptions (device);
CREATE INDEX push_subscriptions_ip ON push_subscriptions (ip);
CREATE INDEX push_subscriptions_expires ON push_subscriptions (expires_at);
