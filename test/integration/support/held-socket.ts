/**
 * A Unix-socket relay in front of a libvirtd socket that the test can make hang: every connection after the first
 * `passFirst` is held (accepted, nothing relayed) until the test releases it (relayed from then on, as if the peer
 * had only been slow) or drops it (closed: the peer never answered). Unlike stopping the daemon, it lets a
 * controller's earlier calls through (choosing the peer by its free memory) and stops exactly the migration's own
 * connection, so a test can kill the controller while `virsh migrate` waits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HeldSocket {
  /** The relay's socket, for a `qemu:///session?socket=` URI. */
  path: string;
  /** Connections held now. */
  held(): number;
  /** Relay the held connections and every later one. */
  release(): void;
  /** Close the held connections; later ones are relayed. */
  drop(): void;
  close(): Promise<void>;
}

export async function holdingRelay(target: string, passFirst: number): Promise<HeldSocket> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-relay-'));
  const path = join(dir, 'sock');
  let seen = 0;
  let holding = true;
  const parked: Socket[] = [];
  const open = new Set<Socket>();
  const relay = (client: Socket) => {
    const upstream = connect(target);
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end);
  };
  const server: Server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    seen += 1;
    if (holding && seen > passFirst) {
      client.pause();
      parked.push(client);
    } else relay(client);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  return {
    path,
    held: () => parked.filter((s) => !s.destroyed).length,
    release() {
      holding = false;
      for (const s of parked.splice(0)) if (!s.destroyed) relay(s.resume());
    },
    drop() {
      holding = false;
      for (const s of parked.splice(0)) s.destroy();
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
