/**
 * A small typed QMP client (QEMU Machine Protocol, JSON lines over a unix socket) and the power driver built on
 * it: the lab's power controller. One short connection per operation, so separate processes can share a VM.
 */
import { createConnection, type Socket } from 'node:net';
import type { PowerDriver, PowerState } from './driver.js';
import { definePowerDriver, optionString } from './definition.js';

/** query-status "status" values (QEMU's RunState). */
export type QmpRunState =
  | 'running'
  | 'paused'
  | 'shutdown'
  | 'prelaunch'
  | 'inmigrate'
  | 'postmigrate'
  | 'internal-error'
  | 'io-error'
  | 'guest-panicked'
  | 'suspended'
  | 'watchdog'
  | 'finish-migrate'
  | 'restore-vm'
  | 'save-vm'
  | 'debug'
  | 'colo';

/** Typed QMP commands used by rollgate: name -> [arguments, return value]. */
export interface QmpCommands {
  'query-status': [undefined, { running: boolean; status: QmpRunState }];
  system_reset: [undefined, Record<string, never>];
  system_powerdown: [undefined, Record<string, never>];
  stop: [undefined, Record<string, never>];
  cont: [undefined, Record<string, never>];
  quit: [undefined, Record<string, never>];
  set_link: [{ name: string; up: boolean }, Record<string, never>];
  /** Lab saved states: migrate the running guest to a file (`exec:cat > FILE`). */
  migrate: [{ uri: string }, Record<string, never>];
  'migrate-set-parameters': [{ 'max-bandwidth'?: number }, Record<string, never>];
  'query-migrate': [
    undefined,
    { status?: 'none' | 'setup' | 'active' | 'completed' | 'failed' | 'cancelled' | string; 'error-desc'?: string },
  ];
}

export class QmpError extends Error {
  override readonly name = 'QmpError';
  constructor(
    message: string,
    readonly qmpClass?: string,
  ) {
    super(message);
  }
}

/** One QMP session: greeting, qmp_capabilities, then commands answered in order (matched by id). */
export class QmpClient {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private greeted: Promise<void>;
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
    timeoutMs: number,
  ) {
    socket.setEncoding('utf8');
    this.greeted = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new QmpError(`QMP ${path}: no greeting within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onGreeting = (msg: Record<string, unknown>) => {
        if ('QMP' in msg) {
          clearTimeout(timer);
          resolve();
        }
      };
      this.onMessage = onGreeting;
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new QmpError(`QMP ${path}: ${err.message}`));
      });
    });
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', (err) => this.failAll(new QmpError(`QMP ${path}: ${err.message}`)));
    socket.on('close', () => this.failAll(new QmpError(`QMP ${path}: connection closed`)));
  }

  private onMessage: (msg: Record<string, unknown>) => void = () => {};

  /** Connect and negotiate capabilities. Throws QmpError when the socket does not answer. */
  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    const socket = createConnection({ path });
    const client = new QmpClient(socket, path, timeoutMs);
    try {
      await client.greeted;
      client.onMessage = (msg) => client.dispatch(msg);
      await client.send('qmp_capabilities', undefined, timeoutMs);
      return client;
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      try {
        this.onMessage(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not JSON: QMP never sends that; ignore rather than crash the caller.
      }
    }
  }

  private dispatch(msg: Record<string, unknown>): void {
    if (typeof msg.id !== 'string') return; // events
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    if ('error' in msg) {
      const e = msg.error as { class?: string; desc?: string };
      waiter.reject(new QmpError(`QMP ${this.path}: ${e.desc ?? 'error'}`, e.class));
    } else waiter.resolve(msg.return);
  }

  private failAll(err: Error): void {
    this.closedError ??= err;
    for (const w of this.pending.values()) w.reject(err);
    this.pending.clear();
  }

  private send(command: string, args: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = `rg${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpError(`QMP ${this.path}: no answer to ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.socket.write(JSON.stringify(msg) + '\n');
    });
  }

  execute<C extends keyof QmpCommands>(
    command: C,
    ...rest: QmpCommands[C][0] extends undefined
      ? [args?: undefined, timeoutMs?: number]
      : [args: QmpCommands[C][0], timeoutMs?: number]
  ): Promise<QmpCommands[C][1]> {
    const [args, timeoutMs] = rest;
    return this.send(command, args, timeoutMs ?? 10_000) as Promise<QmpCommands[C][1]>;
  }

  close(): void {
    this.closedError ??= new QmpError(`QMP ${this.path}: closed`);
    this.socket.destroy();
  }
}

/** Run one operation on a fresh QMP session. */
export async function withQmp<T>(path: string, fn: (qmp: QmpClient) => Promise<T>, timeoutMs = 5000): Promise<T> {
  const qmp = await QmpClient.connect(path, timeoutMs);
  try {
    return await fn(qmp);
  } finally {
    qmp.close();
  }
}

/**
 * Power control of a QEMU VM. Power off pauses the machine (QEMU keeps running, so the driver can switch it on
 * again); power on and reset start the guest from its firmware, like the buttons of a real chassis.
 */
export class QmpPowerDriver implements PowerDriver {
  readonly kind = 'qmp';
  readonly describe: string;

  constructor(
    readonly socket: string,
    private readonly timeoutMs = 5000,
  ) {
    this.describe = `qmp:${socket}`;
  }

  async reset(): Promise<void> {
    await withQmp(
      this.socket,
      async (q) => {
        await q.execute('system_reset');
        const { status } = await q.execute('query-status');
        if (status !== 'running') await q.execute('cont');
      },
      this.timeoutMs,
    );
  }

  async powerOff(): Promise<void> {
    await withQmp(
      this.socket,
      async (q) => {
        await q.execute('stop');
      },
      this.timeoutMs,
    );
  }

  async powerOn(): Promise<void> {
    await withQmp(
      this.socket,
      async (q) => {
        const { status } = await q.execute('query-status');
        if (status === 'running') return;
        await q.execute('system_reset');
        await q.execute('cont');
      },
      this.timeoutMs,
    );
  }

  async status(): Promise<PowerState> {
    try {
      const { status } = await withQmp(this.socket, (q) => q.execute('query-status'), this.timeoutMs);
      return status === 'running'
        ? 'on'
        : status === 'paused' || status === 'shutdown' || status === 'prelaunch'
          ? 'off'
          : 'unknown';
    } catch {
      return 'unknown';
    }
  }

  /** Take a NIC's link down or up (QMP set_link), e.g. the lab's link-down fault. */
  async setLink(name: string, up: boolean): Promise<void> {
    await withQmp(this.socket, (q) => q.execute('set_link', { name, up }), this.timeoutMs);
  }

  /** Stop the QEMU process itself (the lab's `down`), not a power state a real host has. */
  async quit(): Promise<void> {
    await withQmp(
      this.socket,
      async (q) => {
        await q.execute('quit').catch((err: Error) => {
          if (!/connection closed/.test(err.message)) throw err;
        });
      },
      this.timeoutMs,
    );
  }
}

/** `rollgate_power: {driver: qmp, socket: PATH}`: a QEMU VM's QMP socket (the lab writes it). */
export const qmpPower = definePowerDriver({
  name: 'qmp',
  description: 'a QEMU VM, through its QMP unix socket',
  options: {
    socket: { description: "path of the VM's QMP unix socket on the controller", type: 'string', minLength: 1 },
  },
  create(_host, cfg, ctx) {
    const socket = optionString(cfg, 'socket', ctx, "add `socket: <path of the VM's QMP unix socket>`");
    return socket ? new QmpPowerDriver(socket) : null;
  },
});
