// The embedded store's SQLite schema and every statement it runs. docs/store.md explains the design; the tests
// run EXPLAIN QUERY PLAN over the statements marked hot to prove none of them scans a whole table.

/** Bumped when the schema changes incompatibly; a newer file is refused instead of misread. */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per request. The JSON document is the request; the other columns are derived from it on every write
-- (in the same statement), so a request and its index entries can never disagree.
CREATE TABLE IF NOT EXISTS requests (
  id         TEXT PRIMARY KEY,
  version    INTEGER NOT NULL,
  data       TEXT NOT NULL,
  requester  TEXT NOT NULL,   -- '<platform>#<userId>'
  created_at INTEGER NOT NULL,
  due_kind   TEXT,            -- pending | active | cleanup; NULL when nothing is ever due again
  due_at     INTEGER,
  outbox_at  INTEGER          -- NULL when the outbox is empty
);
CREATE INDEX IF NOT EXISTS requests_due ON requests (due_kind, due_at, id) WHERE due_kind IS NOT NULL;
CREATE INDEX IF NOT EXISTS requests_outbox ON requests (outbox_at, id) WHERE outbox_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS requests_by_requester ON requests (requester, created_at, id);
CREATE INDEX IF NOT EXISTS requests_recent ON requests (created_at, id);

-- Delivery de-duplication and the durable inbox share one row per (platform, delivery id).
CREATE TABLE IF NOT EXISTS deliveries (
  platform    TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  state       TEXT NOT NULL,  -- claimed | pending (recorded, not yet processed) | processed
  expires_at  INTEGER NOT NULL,
  received_at INTEGER,
  event       TEXT,           -- the InboundEvent while pending
  PRIMARY KEY (platform, delivery_id)
);
CREATE INDEX IF NOT EXISTS deliveries_inbox ON deliveries (received_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_expiry ON deliveries (expires_at) WHERE state <> 'pending';

CREATE TABLE IF NOT EXISTS channel_mappings (
  platform   TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  data       TEXT NOT NULL,
  PRIMARY KEY (platform, channel_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS audit (
  seq  INTEGER PRIMARY KEY,
  at   INTEGER NOT NULL,
  data TEXT NOT NULL
);
-- 'head': the newest event (moved in the same transaction as every append); 'pruned': the newest pruned event.
CREATE TABLE IF NOT EXISTS audit_anchors (
  name TEXT PRIMARY KEY,
  seq  INTEGER NOT NULL,
  hash TEXT NOT NULL,
  at   INTEGER
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS leases (
  name       TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS records (
  namespace TEXT NOT NULL,
  key       TEXT NOT NULL,
  version   INTEGER NOT NULL,
  ord       REAL,
  data      TEXT NOT NULL,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX IF NOT EXISTS records_order ON records (namespace, ord, key) WHERE ord IS NOT NULL;
`;

const REQUEST_COLUMNS = 'id, version, data, requester, created_at, due_kind, due_at, outbox_at';
const REQUEST_VALUES = '@id, @version, @data, @requester, @created_at, @due_kind, @due_at, @outbox_at';

/** Statements of the hot paths (run on every event, sweep or recovery pass): each must use an index. */
export const HOT_SQL = {
  getRequest: 'SELECT data FROM requests WHERE id = ?',
  createRequest: `INSERT INTO requests (${REQUEST_COLUMNS}) VALUES (${REQUEST_VALUES}) ON CONFLICT (id) DO NOTHING`,
  // A request's requester and creation time never change, so a save leaves them (and their two indexes) alone.
  saveRequest: `UPDATE requests SET version = @version, data = @data, due_kind = @due_kind, due_at = @due_at,
      outbox_at = @outbox_at WHERE id = @id AND version = @expected`,
  listByRequester: 'SELECT data FROM requests WHERE requester = ? ORDER BY created_at DESC, id DESC LIMIT ?',
  listRecent: 'SELECT data FROM requests ORDER BY created_at DESC, id DESC LIMIT ?',
  listDue: 'SELECT data FROM requests WHERE due_kind = ? AND due_at <= ? ORDER BY due_at, id LIMIT ?',
  listActiveFirst: `SELECT data, due_at, id FROM requests WHERE due_kind = 'active' ORDER BY due_at, id LIMIT ?`,
  listActiveAfter: `SELECT data, due_at, id FROM requests WHERE due_kind = 'active' AND (due_at, id) > (?, ?)
      ORDER BY due_at, id LIMIT ?`,
  listOutbox: 'SELECT data FROM requests WHERE outbox_at IS NOT NULL ORDER BY outbox_at, id LIMIT ?',

  claimDelivery: `INSERT INTO deliveries (platform, delivery_id, state, expires_at) VALUES (?, ?, 'claimed', ?)
      ON CONFLICT (platform, delivery_id) DO UPDATE SET state = 'claimed', expires_at = excluded.expires_at,
      received_at = NULL, event = NULL
      WHERE deliveries.state <> 'pending' AND deliveries.expires_at < ?`,
  recordInbound: `INSERT INTO deliveries (platform, delivery_id, state, expires_at, received_at, event)
      VALUES (@platform, @delivery_id, 'pending', @expires_at, @received_at, @event)
      ON CONFLICT (platform, delivery_id) DO UPDATE SET state = 'pending', expires_at = excluded.expires_at,
      received_at = excluded.received_at, event = excluded.event
      WHERE deliveries.state <> 'pending' AND deliveries.expires_at < @now`,
  markInboundProcessed: `UPDATE deliveries SET state = 'processed', event = NULL
      WHERE platform = ? AND delivery_id = ? AND state = 'pending'`,
  listInbound: `SELECT event, received_at FROM deliveries WHERE state = 'pending' ORDER BY received_at LIMIT ?`,
  releaseDelivery: 'DELETE FROM deliveries WHERE platform = ? AND delivery_id = ?',

  auditAnchor: 'SELECT seq, hash, at FROM audit_anchors WHERE name = ?',
  insertAudit: 'INSERT INTO audit (seq, at, data) VALUES (?, ?, ?)',
  moveAuditHead: `UPDATE audit_anchors SET seq = @seq, hash = @hash WHERE name = 'head' AND seq = @expected`,
  createAuditHead: `INSERT INTO audit_anchors (name, seq, hash) VALUES ('head', @seq, @hash) ON CONFLICT (name) DO NOTHING`,

  acquireLease: `INSERT INTO leases (name, owner, expires_at) VALUES (@name, @owner, @expires_at)
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
      WHERE leases.expires_at < @now OR leases.owner = @owner`,
  releaseLease: 'DELETE FROM leases WHERE name = ? AND owner = ?',

  getRecord: 'SELECT key, version, ord, data FROM records WHERE namespace = ? AND key = ?',
  listRecordsByKey: 'SELECT key, version, ord, data FROM records WHERE namespace = ? ORDER BY key LIMIT ?',
  listRecordsByKeyDesc: 'SELECT key, version, ord, data FROM records WHERE namespace = ? ORDER BY key DESC LIMIT ?',
  listRecordsByOrder: `SELECT key, version, ord, data FROM records WHERE namespace = ? AND ord IS NOT NULL
      ORDER BY ord, key LIMIT ?`,
  listRecordsByOrderDesc: `SELECT key, version, ord, data FROM records WHERE namespace = ? AND ord IS NOT NULL
      ORDER BY ord DESC, key DESC LIMIT ?`,
} as const;

/** Admin and housekeeping statements: rare, or bounded by their own LIMIT. */
export const OTHER_SQL = {
  /** The whole (small) set: one row per mapped approver channel. */
  listChannelMappings: 'SELECT data FROM channel_mappings',
  listAuditSince: 'SELECT data FROM audit WHERE at >= ? ORDER BY seq LIMIT ?',
  listAuditSinceDesc: 'SELECT data FROM audit WHERE at >= ? ORDER BY seq DESC LIMIT ?',
  listAuditOldest: 'SELECT seq, at, data FROM audit ORDER BY seq LIMIT ?',
  deleteAuditThrough: 'DELETE FROM audit WHERE seq <= ?',
  setPruningPoint: `INSERT INTO audit_anchors (name, seq, hash, at) VALUES ('pruned', @seq, @hash, @at)
      ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at = excluded.at
      WHERE audit_anchors.seq < excluded.seq`,
  putChannelMapping: `INSERT INTO channel_mappings (platform, channel_id, data) VALUES (?, ?, ?)
      ON CONFLICT (platform, channel_id) DO UPDATE SET data = excluded.data`,
  deleteChannelMapping: 'DELETE FROM channel_mappings WHERE platform = ? AND channel_id = ?',
  putRecord: `INSERT INTO records (namespace, key, version, ord, data) VALUES (@namespace, @key, 1, @ord, @data)
      ON CONFLICT (namespace, key) DO UPDATE SET version = records.version + 1, ord = excluded.ord, data = excluded.data`,
  insertRecord: `INSERT INTO records (namespace, key, version, ord, data) VALUES (@namespace, @key, 1, @ord, @data)
      ON CONFLICT (namespace, key) DO NOTHING`,
  replaceRecord: `UPDATE records SET version = version + 1, ord = @ord, data = @data
      WHERE namespace = @namespace AND key = @key AND version = @expected`,
  deleteRecord: 'DELETE FROM records WHERE namespace = ? AND key = ?',
  /** Expired claims and processed events: nothing reads them any more. */
  deleteExpiredDeliveries: `DELETE FROM deliveries WHERE rowid IN
      (SELECT rowid FROM deliveries WHERE state <> 'pending' AND expires_at < ? ORDER BY expires_at LIMIT ?)`,
  deleteExpiredLeases: 'DELETE FROM leases WHERE expires_at < ?',
} as const;
