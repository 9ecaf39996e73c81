/**
 * Locks are the machine's, not the inventory name's, and undo goes only to the machine a run changed. Real sshd
 * hosts; a plain TCP forwarder in this process makes one sshd reachable at a second address (or, switched, puts
 * another sshd with another host key behind the same address), as DNS aliases, NAT and reinstalls do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEET_ADMIN_USER, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { buildRoot } from './support/fake-root.js';
import { removeRoot, tempRoot } from './support/module-host.js';
import { ensureBuilt, rollgate } from './support/cli.js';
import { peek, pendingStep, startCli, until } from './support/cli-process.js';

let fleet: SshdFleet;
let dir: string;
const roots: string[] = [];

/** A TCP forwarder on 127.0.0.1 to whichever sshd `target` names now. */
interface Forwarder {
  port: number;
  target: number;
  server: Server;
  sockets: Set<Socket>;
}
let fw: Forwarder;

async function startForwarder(target: number): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const f: Forwarder = { port: 0, target, sockets, server: createServer() };
  f.server.on('connection', (client) => {
    const up = connect(f.target, '127.0.0.1');
    for (const s of [client, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (s === client ? up : client).destroy());
    }
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((resolve) => f.server.listen(0, '127.0.0.1', resolve));
  f.port = (f.server.address() as { port: number }).port;
  return f;
}

/** An inventory: each entry a name, the port it is reached at, and the root it works under. */
function inventory(file: string, hosts: Array<[string, number, string]>): string {
  const lines = hosts
    .map(([name, port, root]) => `    ${name}:\n      ansible_port: ${port}\n      rollgate_root: ${root}\n`)
    .join('');
  writeFileSync(
    file,
    `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: ${FLEET_ADMIN_USER}\n    ansible_become: true\n    ansible_ssh_private_key_file: ${fleet.clientKey}\n    rollgate_known_hosts_file: ${fleet.knownHosts}\n  hosts:\n${lines}`,
  );
  return file;
}

/** A play that appends one line per host it ran on to the root's etc/count. */
function counting(seconds = 0): string {
  const file = join(dir, `count-${seconds}.yml`);
  writeFileSync(
    file,
    `- hosts: all\n  tasks:\n    - name: slow\n      command: sleep ${seconds}\n    - name: count\n      shell: echo {{ inventory_hostname }} >> {{ rollgate_root }}/etc/count\n`,
  );
  return file;
}

const counted = (root: string) =>
  existsSync(join(root, 'etc/count')) ? readFileSync(join(root, 'etc/count'), 'utf8').trim().split('\n') : [];
const A = () => fleet.hosts[0]!;
const B = () => fleet.hosts[1]!;

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rg-identity-'));
  chmodSync(dir, 0o755);
  fleet = await startSshdFleet({ count: 2, dir: join(dir, 'fleet') });
  fw = await startForwarder(A().port);
  // The forwarded address is known with both sshds' keys, as after an operator re-keyed or moved a host.
  appendFileSync(
    fleet.knownHosts,
    `[127.0.0.1]:${fw.port} ${A().hostPublicKey}\n[127.0.0.1]:${fw.port} ${B().hostPublicKey}\n`,
  );
});
afterAll(async () => {
  for (const s of fw?.sockets ?? []) s.destroy();
  await new Promise((r) => fw?.server.close(r));
  await fleet?.stop();
  roots.forEach(removeRoot);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function root(label: string): string {
  const r = tempRoot(label);
  buildRoot(r, 'debian');
  roots.push(r);
  return r;
}

describe('one machine, one run', () => {
  it('refuses one sshd listed under two names at the same address before contacting it', async () => {
    const r = root('twice');
    const inv = inventory(join(dir, 'twice.yml'), [
      ['hv1', A().port, r],
      ['hv1-again', A().port, r],
    ]);
    const out = await rollgate(['run', counting(), '-i', inv, '--journal', join(dir, 'twice.db')]);
    expect(out.code).toBe(5);
    expect(out.stderr).toBe(
      `rollgate run: hosts locked:\nhv1-again is the same machine (127.0.0.1:${A().port}) as hv1 in this run: a run drives each machine once; list it once in the inventory or leave one name out with --limit\nnothing was touched\n`,
    );
    expect(counted(r)).toEqual([]);
  });

  it('drives one sshd reached at two addresses once: the second name is refused right after its handshake', async () => {
    const r = root('alias');
    const inv = inventory(join(dir, 'alias.yml'), [
      ['hv1', A().port, r],
      ['hv1-alias', fw.port, r],
    ]);
    const out = await rollgate(['run', counting(), '-i', inv, '--journal', join(dir, 'alias.db')]);
    expect(counted(r)).toHaveLength(1);
    expect(out.code).toBe(1);
    const [ran] = counted(r);
    const refused = ran === 'hv1' ? 'hv1-alias' : 'hv1';
    expect(out.stdout).toMatch(
      new RegExp(`${refused}.*is the same machine \\(SHA256:[A-Za-z0-9+/]{43}\\) as ${ran} in this run`),
    );
  });

  it('refuses a second run the machine a running run holds under another name, and says which run', async () => {
    const r = root('held');
    const journal = join(dir, 'held.db');
    const first = startCli([
      'run',
      counting(4),
      '-i',
      inventory(join(dir, 'held1.yml'), [['hv1', A().port, r]]),
      '--journal',
      journal,
    ]);
    await until(() => pendingStep(journal, 'slow'));
    const id = peek(journal, (db) => (db.prepare('SELECT id FROM runs').get() as { id: string }).id)!;
    const second = await rollgate([
      'run',
      counting(),
      '-i',
      inventory(join(dir, 'held2.yml'), [['hv1-alias', fw.port, r]]),
      '--journal',
      journal,
    ]);
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(
      new RegExp(
        `hv1-alias \\(SHA256:[A-Za-z0-9+/]{43}\\) is locked by run ${id} as hv1: run ${id} is in progress \\(its controller \\S+:${first.child.pid} is alive`,
      ),
    );
    expect((await first.done).code).toBe(0);
    expect(counted(r)).toEqual(['hv1']);
  });
});

describe('undo only on the machine the run changed', () => {
  const change = () => {
    const file = join(dir, 'change.yml');
    writeFileSync(file, '- hosts: all\n  tasks:\n    - kernel_args: { present: [rollgate.identity=1] }\n');
    return file;
  };
  const grub = (r: string) => readFileSync(join(r, 'etc/default/grub'), 'utf8');

  it('refuses a name that now points to another sshd (exit 2, both named, nothing contacted)', async () => {
    const [ra, rb] = [root('moved-a'), root('moved-b')];
    const journal = join(dir, 'moved.db');
    const inv = inventory(join(dir, 'moved.yml'), [['hv1', A().port, ra]]);
    const ran = await rollgate(['run', change(), '-i', inv, '--journal', journal]);
    expect(ran.code).toBe(0);
    const id = /run (\S+): journal/.exec(ran.stdout)![1]!;
    const beforeB = grub(rb);
    inventory(inv, [['hv1', B().port, rb]]);
    const out = await rollgate(['undo', id, '--journal', journal]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(
      new RegExp(
        `^${inv}:10:7: hv1 now points to 127\\.0\\.0\\.1:${B().port}, but run ${id} changed the machine at 127\\.0\\.0\\.1:${A().port} \\(host key SHA256:[A-Za-z0-9+/]{43}\\)\\. fix the inventory so hv1 points to 127\\.0\\.0\\.1:${A().port} again \\(or pass -i with the inventory the run used\\), or add --force if 127\\.0\\.0\\.1:${B().port} is the same machine, moved\\n$`,
      ),
    );
    expect(grub(rb)).toBe(beforeB);
    expect(grub(ra)).toContain('rollgate.identity=1');
  });

  it('refuses a host that presents another host key at the same address; --force undoes it there', async () => {
    const r = root('rekeyed');
    const journal = join(dir, 'rekeyed.db');
    fw.target = A().port;
    const inv = inventory(join(dir, 'rekeyed.yml'), [['hv1', fw.port, r]]);
    const before = grub(r);
    const ran = await rollgate(['run', change(), '-i', inv, '--journal', journal]);
    expect(ran.code).toBe(0);
    const id = /run (\S+): journal/.exec(ran.stdout)![1]!;
    fw.target = B().port; // the address now leads to another sshd, with another host key
    try {
      const out = await rollgate(['undo', id, '--journal', journal]);
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(
        new RegExp(
          `hv1 now presents host key SHA256:\\S+ at 127\\.0\\.0\\.1:${fw.port}, but run ${id} changed it when it presented SHA256:\\S+ at 127\\.0\\.0\\.1:${fw.port}: it is another machine, or the same one with a new key\\. Fix the inventory \\(or known_hosts\\) so hv1 points to the machine the run changed, or add --force if it is the same machine`,
        ),
      );
      expect(grub(r)).toContain('rollgate.identity=1');
      const forced = await rollgate(['undo', id, '--journal', journal, '--force']);
      expect(forced.code).toBe(0);
      expect(grub(r)).toBe(before);
    } finally {
      fw.target = A().port;
    }
  });
});
