/**
 * Run leases and locks keyed by the machine. A run's controller holds a lease (owner hostname:pid, a random
 * token, heartbeat, expiry) that it renews while it works; `resume` takes a dead controller's lease over in one
 * transaction. Host locks are keyed by the machine's identity (`addr:ADDRESS:PORT` before connecting,
 * `key:SHA256:...` after the SSH handshake) with the inventory name kept for messages; locks of older journals
 * keep their name as `name:HOST`. Each host of a run records the address, port and host key it was reached at.
 */
export const sql = `
CREATE TABLE run_leases (
  run_id       TEXT PRIMARY KEY REFERENCES runs(id),
  owner        TEXT NOT NULL,
  token        TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
);

CREATE TABLE machine_locks (
  machine     TEXT PRIMARY KEY,
  host        TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  holder      TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at  INTEGER
);
INSERT INTO machine_locks (machine, host, run_id, holder, acquired_at, expires_at)
  SELECT 'name:' || host, host, run_id, holder, acquired_at, expires_at FROM host_locks;
DROP TABLE host_locks;
ALTER TABLE machine_locks RENAME TO host_locks;
CREATE INDEX host_locks_run ON host_locks (run_id, host);

ALTER TABLE run_hosts ADD COLUMN address TEXT;
ALTER TABLE run_hosts ADD COLUMN port INTEGER;
ALTER TABLE run_hosts ADD COLUMN host_key TEXT;
`;
