/**
 * vfio_bind: hand PCI devices to vfio-pci at every boot (modprobe.d ids + softdep, vfio modules in the
 * initramfs module list) and optionally right now (driver_override, unbind, reprobe). Refuses when an IOMMU
 * group holds a device the play did not name, and when a runtime unbind would take down a network that is up.
 */
import { sh } from '../../connection/shell-quote.js';
import type { OptionsSchema } from '../module.js';
import { defineHostModule, type ArgsOf } from '../define-module.js';
import { listOption } from '../expectations.js';
import { pciId, stringList } from '../option-schemas.js';
import { ModuleFailure, type CheckOutcome, type ModuleContext } from '../module.js';
import { findTools, hostRootFromVars, toolCommand, type HostRoot } from '../host-root.js';
import { listRemoteDir, readRemoteFile, readRemoteFiles } from '../host-files.js';
import {
  applyFileChange,
  dirsToCreate,
  editableText,
  planFileChange,
  type FileChange,
  type PlannedFile,
} from '../file-change.js';
import { PCI_ADDR, readPciDevices, type PciDevice } from '../pci/pci-devices.js';
import { planBinding } from '../pci/group-check.js';
import { editVfioConf, type ConfFile } from '../vfio/modprobe-conf.js';
import {
  addModules,
  detectInitramfsTooling,
  hostNow,
  rebuildIfNewerCommand,
  VFIO_MODULES,
} from '../initramfs/initramfs-tooling.js';

/** The options, as the schema below describes them. */
export type VfioBindArgs = ArgsOf<typeof vfioBindOptions>;

export type VfioBindChange = FileChange & { runtimeAddrs: string[]; root: string };

export const MANAGED_MODPROBE = '/etc/modprobe.d/rollgate-vfio.conf';
const PCI_ID = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/;

function validate(args: VfioBindArgs): void {
  const bad = [
    ...(args.ids ?? [])
      .filter((i) => !PCI_ID.test(i))
      .map((i) => `ids: ${JSON.stringify(i)} is not vendor:device (e.g. 10de:1e87)`),
    ...(args.allow_group_members ?? [])
      .filter((a) => !PCI_ADDR.test(a))
      .map((a) => `allow_group_members: ${JSON.stringify(a)} is not a PCI address (e.g. 0000:00:1f.0)`),
  ];
  if (!args.ids?.length) bad.push('ids: name at least one vendor:device id');
  if (bad.length) throw new ModuleFailure(bad.join('; '));
}

/** Bind one device now; the sysfs writes lspci users know, with driver_override so only vfio-pci may take it. */
function bindNow(hr: HostRoot, addr: string): string {
  return sh`d=${hr.path(`/sys/bus/pci/devices/${addr}`)}; printf '%s' vfio-pci > "$d/driver_override" && { if [ -e "$d/driver" ]; then printf '%s' ${addr} > "$d/driver/unbind"; fi; } && printf '%s' ${addr} > ${hr.path('/sys/bus/pci/drivers_probe')}`
    .text;
}

/** Give a device back: clear driver_override, leave vfio-pci, let the kernel probe its own driver again. */
function releaseNow(hr: HostRoot, addr: string): string {
  // Only a device vfio-pci holds is unbound: undoing a bind that never happened leaves the device alone.
  return sh`d=${hr.path(`/sys/bus/pci/devices/${addr}`)}; printf '\\n' > "$d/driver_override"; if [ -e "$d/driver" ] && [ "$(basename "$(readlink "$d/driver")")" = vfio-pci ]; then printf '%s' ${addr} > "$d/driver/unbind"; printf '%s' ${addr} > ${hr.path('/sys/bus/pci/drivers_probe')}; fi`
    .text;
}

async function modprobeFiles(ctx: ModuleContext, hr: HostRoot): Promise<PlannedFile['file'][]> {
  const paths = await listRemoteDir(ctx.conn, hr.path('/etc/modprobe.d'), '*.conf');
  const managed = hr.path(MANAGED_MODPROBE);
  return readRemoteFiles(ctx.conn, paths.includes(managed) ? paths : [...paths, managed]);
}

/** The options schema; `VfioBindArgs` is derived from it. */
export const vfioBindOptions = {
  type: 'object',
  additionalProperties: false,
  required: ['ids'],
  properties: {
    ids: {
      type: 'array',
      items: pciId,
      minItems: 1,
      description: 'vendor:device ids of every function to bind (GPU and its audio function together)',
    },
    runtime: {
      type: 'boolean',
      default: false,
      description: 'also bind now through driver_override, without a reboot',
    },
    allow_group_members: {
      ...stringList,
      description: 'extra PCI addresses that may share the IOMMU group without being bound',
    },
  },
} as const satisfies OptionsSchema;

export const vfioBind = defineHostModule({
  name: 'vfio_bind',
  description:
    'Bind PCI devices to vfio-pci persistently: modprobe.d options and softdeps, vfio modules in the initramfs list, optionally a runtime bind.',
  changesHost: true,
  options: vfioBindOptions,

  async check(ctx, args): Promise<CheckOutcome<VfioBindChange>> {
    validate(args);
    const hr = hostRootFromVars(ctx.vars);
    const plan = planBinding(await readPciDevices(ctx.conn, hr), args.ids, args.allow_group_members);
    if (plan.problems.length) throw new ModuleFailure(plan.problems.join('; '));
    const hostModules = plan.devices
      .filter((d) => d.driver !== 'vfio-pci')
      .map((d) => d.module ?? d.driver)
      .filter((m): m is string => m !== null);

    const confFiles = await modprobeFiles(ctx, hr);
    let confEdits: ConfFile[];
    try {
      confEdits = editVfioConf(
        confFiles.map((f) => ({ path: f.path, text: editableText(f) })),
        hr.path(MANAGED_MODPROBE),
        args.ids,
        hostModules,
      );
    } catch (err) {
      throw new ModuleFailure((err as Error).message);
    }
    const planned: PlannedFile[] = confEdits.map((e) => ({
      file: confFiles.find((f) => f.path === e.path)!,
      after: e.text,
    }));

    const initramfs = await detectInitramfsTooling(ctx.conn, hr);
    const rebuild: string[] = [];
    if (initramfs) {
      const list = await readRemoteFile(ctx.conn, initramfs.moduleListFile);
      const after = addModules(initramfs.kind, editableText(list), VFIO_MODULES);
      if (after !== editableText(list)) planned.push({ file: list, after });
      rebuild.push(rebuildIfNewerCommand(hr, initramfs, await hostNow(ctx.conn)));
    }

    const runtimeDevices: PciDevice[] = args.runtime ? plan.devices.filter((d) => d.driver !== 'vfio-pci') : [];
    const busy = runtimeDevices.filter((d) => d.netUp);
    if (busy.length)
      throw new ModuleFailure(
        `runtime bind would unbind ${busy.map((d) => d.addr).join(', ')} whose network interface is up; take it down first or bind at next boot (runtime: false)`,
      );
    const commands: string[] = [];
    const reverse: string[] = [];
    if (runtimeDevices.length) {
      const modprobe = (await findTools(ctx.conn, hr, ['modprobe'])).modprobe;
      if (!modprobe) throw new ModuleFailure('runtime bind needs modprobe, which is not installed');
      commands.push(toolCommand(hr, modprobe, ['vfio-pci']).text, ...runtimeDevices.map((d) => bindNow(hr, d.addr)));
      reverse.push(...runtimeDevices.map((d) => releaseNow(hr, d.addr)));
    }

    const addrs = plan.devices.map((d) => d.addr).join(', ');
    const outcome = planFileChange({
      summary: `bind ${args.ids.join(', ')} (${addrs}) to vfio-pci${args.runtime ? ' now and' : ''} at boot${initramfs ? '; rebuild the initramfs for early binding' : ''}`,
      files: planned,
      commands,
      rebuild,
      reverse,
      createdDirs: await dirsToCreate(ctx.conn, planned),
      changeWithoutFiles: commands.length > 0,
      extra: {
        devices: plan.devices.map((d) => ({ addr: d.addr, id: d.id, driver: d.driver, group: d.group })),
        groups: plan.groups,
      },
      rebootRequired: !args.runtime,
    });
    if (outcome.status === 'no_change') return outcome;
    return {
      ...outcome,
      change: { ...outcome.change, runtimeAddrs: runtimeDevices.map((d) => d.addr), root: hr.root },
    };
  },

  async apply(ctx, _args, change) {
    await applyFileChange(ctx.conn, change);
    if (change.runtimeAddrs.length) {
      const hr = hostRootFromVars({ rollgate_root: change.root });
      let now = await readPciDevices(ctx.conn, hr);
      // The kernel probes synchronously; a few short re-reads cover drivers that finish binding a moment later.
      for (
        let i = 0;
        i < 10 && change.runtimeAddrs.some((a) => now.find((d) => d.addr === a)?.driver !== 'vfio-pci');
        i++
      ) {
        await new Promise((r) => setTimeout(r, 200));
        now = await readPciDevices(ctx.conn, hr);
      }
      const notBound = change.runtimeAddrs.filter((a) => now.find((d) => d.addr === a)?.driver !== 'vfio-pci');
      if (notBound.length) {
        const drivers = notBound.map((a) => `${a}: ${now.find((d) => d.addr === a)?.driver ?? 'no driver'}`).join(', ');
        throw new ModuleFailure(
          `runtime bind did not take: ${drivers} (the boot-time configuration is written; a reboot will bind them)`,
          true,
        );
      }
    }
    return {
      message: `vfio-pci configured${change.runtimeAddrs.length ? ` and bound now: ${change.runtimeAddrs.join(', ')}` : ''}`,
    };
  },
  expectAfterBoot(exp, { args }) {
    for (const id of listOption(args.ids)) exp.drivers[id.toLowerCase()] = 'vfio-pci';
  },
});
