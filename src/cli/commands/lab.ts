/**
 * `rollgate lab ...`: the local VM lab (QEMU, emulated IOMMU, each VM booting through its own GRUB).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Argument, InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError } from '../../core/config-error.js';
import { isBug } from '../../core/internal-error.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { SetExitCode } from './index.js';
import { labSettings, type LabSettings } from '../../lab/settings.js';
import { LAB_PROFILES, profileBootLoader, type LabProfile } from '../../lab/kinds.js';
import { connectLabHost, labDown, labReset, labUp, MAX_LAB_HOSTS, requireHost, requireLab } from '../../lab/lab.js';
import { currentImage, ensureImage } from '../../lab/image.js';
import { guestTimeLines } from '../../lab/lab-guests.js';
import { summarizeImage } from '../../lab/image-summary.js';
import { hostNames, labHostName } from '../../lab/state.js';
import { vmPid } from '../../lab/vm.js';
import { QmpPowerDriver } from '../../power/qmp.js';
import {
  armFault,
  clearFaults,
  listFaults,
  FAULT_DESCRIPTIONS,
  FAULT_KINDS,
  type FaultKind,
} from '../../lab/faults/faults.js';
import { upProgressView } from './lab-progress.js';
import { LAB_INVENTORY_PATH } from '../../lab/inventory-file.js';

function settings(): LabSettings {
  return labSettings(process.env, (p) => readFileSync(p, 'utf8'));
}

function print(line = ''): void {
  process.stdout.write(line + '\n');
}

/**
 * How a lab command's error ends: bad input exit 2, a lab step that failed (QEMU, SSH, the image build, a lab
 * that is not up) exit 1 with its message; a bug is thrown on, so the CLI prints its stack (exit 70).
 */
export function labFailure(err: unknown): { code: ExitCode; message: string } {
  if (isBug(err)) throw err;
  if (err instanceof ConfigError) return { code: EXIT.badInput, message: err.message };
  return { code: EXIT.failed, message: `rollgate lab: ${(err as Error).message}` };
}

function fail(setExitCode: SetExitCode, err: unknown): void {
  const { code, message } = labFailure(err);
  process.stderr.write(`${message}\n`);
  setExitCode(code);
}

/** A commander option parser: a whole number from 1 to `max` (commander reports a bad one: exit 2). */
function positiveInt(max = Number.MAX_SAFE_INTEGER) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? 'expected a whole number of 1 or more'
          : `expected a whole number from 1 to ${max}`,
      );
    }
    return n;
  };
}

export function registerLab(program: Command, setExitCode: SetExitCode): void {
  const lab = program
    .command('lab')
    .description('Local VM lab: Debian hypervisors under QEMU with an emulated IOMMU, booting through their own GRUB')
    .addHelpText(
      'after',
      '\nState: $ROLLGATE_LAB_STATE (default ~/.local/state/rollgate/lab); image cache: $ROLLGATE_LAB_CACHE (default ~/.cache/rollgate/lab). See docs/lab.md.',
    );

  lab
    .command('up')
    .description(
      `build the guest image if needed, start (or reuse) the VMs, wait for SSH logins, write ${LAB_INVENTORY_PATH}`,
    )
    .option('--hosts <n>', 'number of VMs', positiveInt(MAX_LAB_HOSTS), 3)
    .addOption(
      new Option(
        '--profile <profile>',
        'IOMMU of the VMs booting through GRUB: intel, amd, or mixed (alternating); systemd-boot: Intel VMs booting systemd-boot through OVMF (UEFI), kernel command line in /etc/kernel/cmdline, loader entries by kernel-install; stock-grub: Intel VMs with the stock GRUB defaults (GRUB_DEFAULT=0, no saved entry), refused by the trial boot until prepared (rollout --prepare-boot)',
      )
        .choices([...LAB_PROFILES])
        .default('intel'),
    )
    .option(
      '--guests',
      "libvirt in every VM (the guests image, derived from the GRUB image) with two nested guests running: movable-labN (diskless, live-migratable) and pt-labN (the e1000e 0000:01:00.0 passed through, IOMMU on); a private LAN between the VMs (labN = 10.77.0.N) for migration over SSH; the inventory lists each host's lab_guests. GRUB profiles only",
    )
    .option('--inventory <file>', 'where to write the inventory', LAB_INVENTORY_PATH)
    .action(async (opts: { hosts: number; profile: LabProfile; inventory: string; guests?: boolean }) => {
      try {
        const s = settings();
        const hosts = Array.from({ length: opts.hosts }, (_, i) => labHostName(i));
        const view = upProgressView(hosts);
        const started = Date.now();
        const result = await view.run(
          labUp(s, {
            hosts: opts.hosts,
            profile: opts.profile,
            ...(opts.guests ? { guests: true } : {}),
            inventoryFile: opts.inventory,
            onProgress: view.onProgress,
          }),
        );
        print(
          `lab up: ${hostNames(result.state).length} host(s) in ${Math.round((Date.now() - started) / 1000)} s, accel ${result.state.accel}; inventory ${result.inventoryFile}`,
        );
        for (const [h, ms] of Object.entries(result.bootMs))
          print(
            `  ${h}: cold boot to SSH login ${Math.round(ms / 1000)} s${result.state.hosts[h]?.efiVars ? ' (UEFI: no saved state, every start is a cold boot)' : ' (its booted state is saved: later starts restore it)'}`,
          );
        for (const [h, ms] of Object.entries(result.restoreMs))
          print(`  ${h}: restored from its saved state to SSH login in ${(ms / 1000).toFixed(1)} s`);
        for (const [h, t] of Object.entries(result.guestTimes))
          for (const line of guestTimeLines(t)) print(`  ${h}: ${line}`);
      } catch (err) {
        fail(setExitCode, err);
      }
    });

  lab
    .command('status')
    .description('list the lab VMs: kind, SSH port, QEMU process, power state')
    .option('--json', 'one JSON document')
    .action(async (opts: { json?: boolean }) => {
      try {
        const s = settings();
        const { state, paths } = requireLab(s);
        const img = currentImage(s, state.guests ? 'guests' : profileBootLoader(state.profile));
        const rows = await Promise.all(
          hostNames(state).map(async (n) => {
            const vm = state.hosts[n]!;
            const pid = vmPid(vm);
            const power = pid ? await new QmpPowerDriver(vm.qmpSocket, 3000).status() : 'off';
            return {
              host: n,
              kind: vm.kind,
              iommu: vm.iommu,
              sshPort: vm.sshPort,
              pid: pid ?? null,
              power,
              linkDown: existsSync(`${vm.dir}/link-down`),
              console: vm.consoleLog,
              qmp: vm.qmpSocket,
            };
          }),
        );
        if (opts.json) {
          print(
            JSON.stringify(
              {
                stateDir: paths.stateDir,
                profile: state.profile,
                accel: state.accel,
                image: state.imageHash,
                hosts: rows,
              },
              null,
              2,
            ),
          );
          return;
        }
        print(
          `lab: ${paths.stateDir}  profile ${state.profile}  accel ${state.accel}  image ${state.imageHash}${img && img.hash !== state.imageHash ? ` (recipe now ${img.hash}: down + up to use it)` : ''}`,
        );
        for (const r of rows) {
          print(
            `  ${r.host.padEnd(6)} ${r.kind.padEnd(15)} ssh 127.0.0.1:${r.sshPort}  ${r.pid ? `qemu pid ${r.pid}` : 'not running'}  power ${r.power}${r.linkDown ? '  LINK DOWN' : ''}`,
          );
        }
        const first = rows[0];
        if (first)
          print(
            `\n  ssh -i ${paths.operatorKey} -o UserKnownHostsFile=${paths.knownHosts} -o StrictHostKeyChecking=yes -p ${first.sshPort} rgops@127.0.0.1`,
          );
      } catch (err) {
        fail(setExitCode, err);
      }
    });

  lab
    .command('down')
    .description('stop every lab VM and delete their disks (the next up starts pristine)')
    .option('--keep-disks', 'keep the VM overlays and the state')
    .option('--inventory <file>', 'inventory file to remove', LAB_INVENTORY_PATH)
    .action(async (opts: { keepDisks?: boolean; inventory: string }) => {
      try {
        const names = await labDown(settings(), { keepDisks: opts.keepDisks, inventoryFile: opts.inventory });
        print(names.length ? `lab down: stopped ${names.join(', ')}` : 'lab down: nothing was up');
      } catch (err) {
        fail(setExitCode, err);
      }
    });

  lab
    .command('reset <host>')
    .description(
      'put one VM back to pristine (restore its saved booted state, or boot the base image) and wait for SSH',
    )
    .action(async (host: string) => {
      try {
        const ready = await labReset(settings(), host);
        print(`${host}: pristine, SSH login after ${Math.round(ready.waitedMs / 1000)} s`);
      } catch (err) {
        fail(setExitCode, err);
      }
    });

  lab
    .command('console <host>')
    .description("print a VM's serial console log (kept across reboots)")
    .option('-n, --lines <n>', 'last N lines only', positiveInt())
    .action((host: string, opts: { lines?: number }) => {
      try {
        const { vm } = requireHost(settings(), host);
        const text = existsSync(vm.consoleLog) ? readFileSync(vm.consoleLog, 'utf8') : '';
        const lines = text.split('\n');
        process.stdout.write(opts.lines ? lines.slice(-opts.lines - 1).join('\n') : text);
      } catch (err) {
        fail(setExitCode, err);
      }
    });

  lab
    .command('power')
    .argument('<host>')
    .addArgument(new Argument('<action>').choices(['reset', 'off', 'on', 'status']))
    .description('the power driver of a VM (QMP): reset, off, on or status')
    .action(async (host: string, action: string) => {
      try {
        const { vm } = requireHost(settings(), host);
        const power = new QmpPowerDriver(vm.qmpSocket);
        switch (action) {
          case 'reset':
            await power.reset();
            break;
          case 'off':
            await power.powerOff();
            break;
          case 'on':
            await power.powerOn();
            break;
          case 'status':
            break;
        }
        print(`${host}: power ${await power.status()}`);
      } catch (err) {
        fail(setExitCode, err);
      }
    });

  lab
    .command('fault')
    .argument('<host>')
    .addArgument(new Argument('[kind]').choices([...FAULT_KINDS, 'clear']))
    .description(`arm a fault on a VM (${FAULT_KINDS.join(', ')}), "clear" them all, or list what is armed`)
    .option('--seconds <n>', 'slow-boot: how long the next boot waits', positiveInt(), 120)
    .addHelpText(
      'after',
      '\nFaults:\n' +
        FAULT_KINDS.map((k) => `  ${k.padEnd(19)} ${FAULT_DESCRIPTIONS[k]}`).join('\n') +
        '\n  clear               disarm every fault of the host',
    )
    .action(async (host: string, kind: string | undefined, opts: { seconds: number }) => {
      try {
        const s = settings();
        const { vm } = requireHost(s, host);
        const ctx = { vm, connect: () => connectLabHost(s, host), slowBootSeconds: opts.seconds };
        if (kind === undefined) {
          const armed = await listFaults(ctx);
          print(armed.length ? `${host}: ${armed.join(', ')}` : `${host}: no fault armed`);
        } else if (kind === 'clear') {
          await clearFaults(ctx);
          print(`${host}: faults cleared`);
        } else {
          await armFault(kind as FaultKind, ctx);
          print(`${host}: ${kind} armed: ${FAULT_DESCRIPTIONS[kind as FaultKind]}`);
        }
      } catch (err) {
        fail(setExitCode, err);
      }
    });

  lab
    .command('image')
    .description('build the guest image now if the recipe changed, and print what is cached')
    .option('--force', 'rebuild even when cached (refused while the lab runs on it)')
    .addOption(
      new Option(
        '--profile <profile>',
        "the image of this profile's boot loader (systemd-boot: derived from the GRUB image)",
      )
        .choices([...LAB_PROFILES])
        .default('intel'),
    )
    .option(
      '--guests',
      'the guests image of `lab up --guests` (libvirt and the nested guests; derived from the GRUB image)',
    )
    .action(async (opts: { force?: boolean; profile: LabProfile; guests?: boolean }) => {
      try {
        const s = settings();
        const loader = opts.guests ? 'guests' : profileBootLoader(opts.profile);
        const cached = currentImage(s, loader);
        if (opts.force && cached) {
          const state = (() => {
            try {
              return requireLab(s).state;
            } catch {
              return undefined;
            }
          })();
          if (state && state.imageHash === cached.hash && hostNames(state).some((n) => vmPid(state.hosts[n]!))) {
            process.stderr.write('rollgate lab: the lab runs on this image; `rollgate lab down` first\n');
            setExitCode(EXIT.failed);
            return;
          }
          rmSync(cached.dir, { recursive: true, force: true });
        }
        const img = await ensureImage(s, (line) => print(`  ${line}`), [], loader);
        for (const line of summarizeImage(img)) print(line);
      } catch (err) {
        fail(setExitCode, err);
      }
    });
}
