/**
 * driver_blacklist: keep host drivers off passthrough devices with `blacklist NAME` in modprobe.d (present), or
 * take such lines out again (absent). Refuses to blacklist a driver that runs a storage or network device right
 * now unless forced: the field guide's "don't blacklist storage/network drivers casually".
 */
import { defineHostModule, type ArgsOf } from '../define-module.js';
import { stringList } from '../option-schemas.js';
import { ModuleFailure, type CheckOutcome } from '../module.js';
import { hostRootFromVars } from '../host-root.js';
import { listRemoteDir, readRemoteFiles } from '../host-files.js';
import {
  applyFileChange,
  dirsToCreate,
  editableText,
  planFileChange,
  type FileChange,
  type PlannedFile,
} from '../file-change.js';
import { readPciDevices } from '../pci/pci-devices.js';
import { appendLines, blacklisted, normModule } from '../vfio/modprobe-conf.js';
import { detectInitramfsTooling, hostNow, rebuildIfNewerCommand } from '../initramfs/initramfs-tooling.js';

/** The options, as the schema below describes them. */
export type DriverBlacklistArgs = ArgsOf<typeof driverBlacklist.options>;

export const MANAGED_BLACKLIST = '/etc/modprobe.d/rollgate-blacklist.conf';
const HEADER = '# Managed by rollgate (driver_blacklist): host drivers kept off passthrough devices.';
const MODULE_NAME = /^[A-Za-z0-9_-]+$/;

/** Text without the blacklist lines of these drivers (other lines byte for byte). */
export function removeBlacklistLines(text: string, drivers: ReadonlySet<string>): string {
  const lines = text.split('\n');
  const kept = lines.filter((l) => {
    const m = /^\s*blacklist\s+(\S+)\s*$/.exec(l);
    return !(m && drivers.has(normModule(m[1]!)));
  });
  return kept.join('\n');
}

export const driverBlacklist = defineHostModule({
  name: 'driver_blacklist',
  description: 'Keep host drivers off passthrough devices with a modprobe.d blacklist.',
  changesHost: true,
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['drivers'],
    properties: {
      drivers: { ...stringList, description: 'kernel module names, e.g. ["nouveau", "nvidia"]' },
      state: { enum: ['present', 'absent'], default: 'present' },
      force: {
        type: 'boolean',
        default: false,
        description: 'allow blacklisting a driver that runs a storage or network device now',
      },
    },
  },

  async check(ctx, args): Promise<CheckOutcome<FileChange>> {
    const bad = (args.drivers ?? []).filter((d) => !MODULE_NAME.test(d));
    if (bad.length || !args.drivers?.length) {
      throw new ModuleFailure(
        `drivers: ${bad.length ? `${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is not a' : 'are not'} kernel module name${bad.length === 1 ? '' : 's'}` : 'name at least one module'}`,
      );
    }
    const state = args.state ?? 'present';
    const hr = hostRootFromVars(ctx.vars);
    const wanted = new Set(args.drivers.map(normModule));
    if (state === 'present' && !args.force) {
      const vital = (await readPciDevices(ctx.conn, hr)).filter(
        (d) => (d.cls.startsWith('01') || d.cls.startsWith('02')) && wanted.has(normModule(d.module ?? d.driver ?? '')),
      );
      if (vital.length) {
        throw new ModuleFailure(
          `${vital.map((d) => `${d.module ?? d.driver} drives ${d.addr} (${d.cls.startsWith('01') ? 'storage' : 'network'})`).join(', ')}; blacklisting it can leave the host without its disk or network. Set force: true if that device is the one being passed through`,
        );
      }
    }
    const managed = hr.path(MANAGED_BLACKLIST);
    const paths = await listRemoteDir(ctx.conn, hr.path('/etc/modprobe.d'), '*.conf');
    const files = await readRemoteFiles(ctx.conn, paths.includes(managed) ? paths : [...paths, managed]);
    const planned: PlannedFile[] = [];
    if (state === 'present') {
      const have = blacklisted(files.map((f) => ({ path: f.path, text: editableText(f) })));
      const missing = args.drivers.filter((d) => !have.has(normModule(d)));
      const file = files.find((f) => f.path === managed)!;
      if (missing.length)
        planned.push({
          file,
          after: appendLines(
            editableText(file),
            missing.map((d) => `blacklist ${d}`),
            HEADER,
          ),
        });
    } else {
      for (const file of files) {
        const text = editableText(file);
        if (text === null) continue;
        let after: string | null = removeBlacklistLines(text, wanted);
        if (file.path === managed && after.trim() === HEADER) after = null;
        if (after !== text) planned.push({ file, after });
      }
    }
    const t = await detectInitramfsTooling(ctx.conn, hr);
    const rebuild = t ? [rebuildIfNewerCommand(hr, t, await hostNow(ctx.conn))] : [];
    return planFileChange({
      summary: `${state === 'present' ? 'blacklist' : 'un-blacklist'} ${args.drivers.join(', ')}${t ? ' (the initramfs module makes it hold early at boot)' : ''}`,
      files: planned,
      commands: [],
      rebuild,
      createdDirs: await dirsToCreate(ctx.conn, planned),
      rebootRequired: true,
    });
  },

  async apply(ctx, args, change) {
    await applyFileChange(ctx.conn, change);
    return {
      message: `${args.state === 'absent' ? 'removed blacklist for' : 'blacklisted'} ${args.drivers.join(', ')}; takes effect at next boot`,
    };
  },
});
