/**
 * A resumed rollout that finds its host silent (the controller died mid-reboot) waits the boot timeout for it
 * before a power reset: a reset in the middle of the boot would throw the one-shot trial away. Over a real sshd
 * host whose boot is the fake-boot double on a throwaway root (a new boot_id, /proc/cmdline from GRUB's choice).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootAndWait } from '../../src/executor/rollout/boot-control.js';
import { hostCtx, type HostRunDeps } from '../../src/executor/rollout/host-context.js';
import { Journal } from '../../src/journal/journal.js';
import { makeHostRoot } from '../../src/modules/host-root.js';
import type { PowerDriver } from '../../src/power/driver.js';
import { SshConnection } from '../../src/connection/ssh.js';
import type { RollgateEvent } from '../../src/events/events.js';
import { defaultRolloutSettings } from '../../src/strategy/settings.js';
import { fleetTarget, useModuleHost } from './support/module-host.js';
import { useRealGrubTools } from './support/grub-root.js';

const FAKE_BOOT = new URL('../fixtures/trial-boot/fake-boot', import.meta.url).pathname;
const host = useModuleHost();

/** A power driver that counts its resets, and "boots" the root when reset (as a BMC reset would). */
function countingPower(root: string): PowerDriver & { resets: number } {
  return {
    kind: 'test',
    describe: 'test:counting',
    resets: 0,
    async reset() {
      this.resets++;
      execFileSync(FAKE_BOOT, [root]);
    },
    async powerOff() {},
    async powerOn() {},
    async status() {
      return 'on' as const;
    },
  };
}

function silentHost(bootTimeoutSec: number) {
  const r = host.root('resume-wait', 'debian');
  useRealGrubTools(r, { grubenv: 'created' });
  const power = countingPower(r);
  const journal = Journal.open(':memory:');
  const runId = journal.createRun({ kind: 'rollout' }).id;
  const events: RollgateEvent[] = [];
  const d = {
    runId,
    journal,
    power,
    hr: makeHostRoot(r),
    pollMs: 200,
    resuming: true,
    host: { name: host.fleet.hosts[0]!.name, vars: {} },
    settings: { ...defaultRolloutSettings, bootTimeoutSec },
    emit: (e: RollgateEvent) => events.push(e),
    open: () => SshConnection.open(fleetTarget(host.fleet, 0)),
  } as unknown as HostRunDeps;
  const h = hostCtx(d);
  // Journaled before the reboot the dead controller asked for: the boot id it left.
  h.store.save({
    phase: 'rebooting',
    oldBootId: readFileSync(join(r, 'proc/sys/kernel/random/boot_id'), 'utf8').trim(),
  });
  const steps = () => events.flatMap((e) => (e.type === 'rollout.host_step' ? [`${e.step}: ${e.status}`] : []));
  return { r, h, power, steps };
}

describe('a resumed run that finds its host silent', () => {
  it('waits for the boot already under way instead of resetting the host', async () => {
    const { r, h, power, steps } = silentHost(20);
    const booting = setTimeout(() => execFileSync(FAKE_BOOT, [r]), 1500);
    const out = await bootAndWait(h, 'resumed, host silent', null).finally(() => clearTimeout(booting));
    expect(out).toMatchObject({ status: 'back', reset: false });
    expect(power.resets).toBe(0);
    expect(steps()).toEqual([
      'wait for the host (resumed, host silent): started',
      'wait for the host (resumed, host silent): ok',
    ]);
    if (out.status === 'back') await out.conn.close();
  });

  it('resets it through its power driver only after the whole boot timeout', async () => {
    const { h, power, steps } = silentHost(2);
    const started = Date.now();
    const out = await bootAndWait(h, 'resumed, host silent', null);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(out).toMatchObject({ status: 'back', reset: true });
    expect(power.resets).toBe(1);
    expect(steps()).toEqual([
      'wait for the host (resumed, host silent): started',
      'wait for the host (resumed, host silent): failed',
      'power reset: ok',
    ]);
    if (out.status === 'back') await out.conn.close();
  });

  it('takes a host that closes the connection as it is read (going down) for a silent one: no second reboot asked', async () => {
    const { r, h, power, steps } = silentHost(20);
    // A real connection that the host closes: its sshd session is killed from inside, as a shutdown does.
    const conn = await SshConnection.open(fleetTarget(host.fleet, 0));
    await conn
      .exec(
        'p=$$; while [ "$p" -gt 1 ]; do case "$(ps -o args= -p "$p")" in sshd:*) kill -9 "$p"; break;; esac; p=$(ps -o ppid= -p "$p" | tr -d " "); done',
        { timeoutMs: 5000 },
      )
      .catch(() => undefined);
    const booting = setTimeout(() => execFileSync(FAKE_BOOT, [r]), 1500);
    const out = await bootAndWait(h, 'resumed before the reboot took place', conn).finally(() => clearTimeout(booting));
    expect(out).toMatchObject({ status: 'back', reset: false });
    expect(power.resets).toBe(0);
    // No reboot was asked over the dead connection; the boot under way was waited for.
    expect(steps()).toEqual([
      'wait for the host (resumed before the reboot took place): started',
      'wait for the host (resumed before the reboot took place): ok',
    ]);
    if (out.status === 'back') await out.conn.close();
  });
});
