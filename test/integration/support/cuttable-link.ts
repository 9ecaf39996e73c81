/**
 * A link between the controller and one real sshd that a test can cut and mend: a TCP relay on 127.0.0.1 in this
 * process. Cut, every open connection is dropped and new ones are closed before the SSH banner, as when a host's
 * network goes away; mended, new connections reach the sshd again. The relay has its own port, so it comes with a
 * known_hosts file naming the host's keys at that port (strict host key checking stays on).
 */
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import type { FleetHost } from '../../../src/lab/sshd-fleet.js';

export interface CuttableLink {
  port: number;
  knownHosts: string;
  cut(): void;
  mend(): void;
  close(): Promise<void>;
}

export async function cuttableLink(host: FleetHost, knownHosts: string): Promise<CuttableLink> {
  const sockets = new Set<Socket>();
  let down = false;
  const server = createServer((client) => {
    if (down) return void client.destroy();
    const up = connect(host.port, '127.0.0.1');
    for (const s of [client, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (s === client ? up : client).destroy());
    }
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  writeFileSync(knownHosts, host.hostPublicKeys.map((k) => `[127.0.0.1]:${port} ${k}\n`).join(''));
  return {
    port,
    knownHosts,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    mend() {
      down = false;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
