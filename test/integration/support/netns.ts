/**
 * A private network namespace for tests: hosts inside it are unreachable from the test process except through
 * a bridge (a loopback TCP port whose connections are relayed into the namespace by socat).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';

export interface Netns {
  name: string;
  /** Expose `port` of the namespace's 127.0.0.1 on a loopback port of ours. */
  bridge(port: number): Promise<number>;
  remove(): Promise<void>;
}

export function createNetns(label: string): Netns {
  const name = `rg-${label}-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  const servers: Server[] = [];
  const relays = new Set<ChildProcess>();
  return {
    name,
    bridge(port) {
      const server = createServer((socket) => {
        const relay = spawn('ip', ['netns', 'exec', name, 'socat', 'STDIO', `TCP:127.0.0.1:${port}`], {
          stdio: ['pipe', 'pipe', 'ignore'],
        });
        relays.add(relay);
        relay.on('exit', () => {
          relays.delete(relay);
          socket.destroy();
        });
        socket.on('error', () => relay.kill('SIGTERM'));
        socket.on('close', () => relay.kill('SIGTERM'));
        socket.pipe(relay.stdin!);
        relay.stdout!.pipe(socket);
        relay.stdin!.on('error', () => undefined);
      });
      servers.push(server);
      return new Promise((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
      );
    },
    async remove() {
      for (const r of relays) r.kill('SIGTERM');
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      execFileSync('ip', ['netns', 'delete', name]);
    },
  };
}
