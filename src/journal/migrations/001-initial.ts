/** The first journal schema: runs, their hosts, steps with undo records, snapshots, events and the fleet lock. */
export const sql = `
CREATE TABLE runs (
  id            TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,
  status        TEXT NOT NULL,
  playbook      TEXT,
  inventory     TEXT NOT NULL DEFAULT '[]',
  limit_pattern TEXT,
  options       TEXT NOT NULL DEFAULT '{}',
  parent_run_id TEXT REFERENCES runs(id),
  controller    TEXT NOT NULL,
  started_at    INTEGER NOT NULL,
  finished_at   INTEGER
);

CREATE TABLE run_hosts (
  run_id     TEXT NOT NULL REFERENCES runs(id),
  host       TEXT NOT NULL,
  status     TEXT NOT NULL,
  detail     TEXT,
  vars       TEXT NOT NULL DEFAULT '{}',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, host)
);

CREATE TABLE steps (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id      TEXT NOT NULL REFERENCES runs(id),
  host        TEXT NOT NULL,
  task        TEXT NOT NULL,
  module      TEXT NOT NULL,
  args        TEXT NOT NULL DEFAULT '{}',
  status      TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'ok', 'failed', 'skipped')),
  message     TEXT,
  data        TEXT,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  undone_at   INTEGER,
  undone_by   TEXT
);
CREATE INDEX steps_run_host ON steps (run_id, host, id);

CREATE TABLE undo_records (
  step_id     INTEGER PRIMARY KEY REFERENCES steps(id),
  record      TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
);

CREATE TABLE snapshots (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id   TEXT NOT NULL REFERENCES runs(id),
  host     TEXT NOT NULL,
  phase    TEXT NOT NULL,
  taken_at INTEGER NOT NULL,
  data     TEXT NOT NULL
);
CREATE INDEX snapshots_run_host ON snapshots (run_id, host, id);

CREATE TABLE events (
  id     INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs(id),
  host   TEXT,
  type   TEXT NOT NULL,
  at     INTEGER NOT NULL,
  data   TEXT NOT NULL
);
CREATE INDEX events_run ON events (run_id, id);

CREATE TABLE host_locks (
  host        TEXT PRIMARY KEY,
  run_id      TEXT NOT NULL,
  holder      TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at  INTEGER
);

CREATE TABLE down_slots (
  cluster     TEXT NOT NULL,
  host        TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  PRIMARY KEY (cluster, host)
);
`;
