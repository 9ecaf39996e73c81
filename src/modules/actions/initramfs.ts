/**
 * initramfs: rebuild the image(s) with the host's generator and prove the required modules are inside
 * (lsinitramfs / lsinitrd, or built into the kernel). Nothing to do when every image already holds them and is
 * newer than its configuration. The old image is copied aside under /var/lib/rollgate/backups first (verified by
 * sha256); undo copies it back byte for byte, whether the step finished or not (and a missing image is removed).
 */
import { sh } from '../../connection/shell-quote.js';
import { defineHostModule, type ArgsOf } from '../define-module.js';
import { listOption } from '../expectations.js';
import { stringList } from '../option-schemas.js';
import { ModuleFailure, type CheckOutcome, type ModuleContext } from '../module.js';
import { hostRootFromVars, runChecked, toolCommand, type HostRoot } from '../host-root.js';
import { copyScript, missingDirs } from '../host-files.js';
import { applyFileChange, type FileChange } from '../file-change.js';
import {
  builtinModules,
  detectInitramfsTooling,
  imagePath,
  modulesInImage,
  rebuildCommand,
  runningKernel,
  VFIO_MODULES,
  type InitramfsTooling,
} from '../initramfs/initramfs-tooling.js';
import { normModule } from '../vfio/modprobe-conf.js';
import { loaderCopies, sha256Of, type LoaderCopy } from '../initramfs/loader-copies.js';
import { installedKernelImages } from '../boot/boot-tooling.js';
import { findTools } from '../host-root.js';

/** The options, as the schema below describes them. */
export type InitramfsArgs = ArgsOf<typeof initramfs.options>;

export type InitramfsChange = FileChange & {
  root: string;
  tooling: InitramfsTooling;
  proofs: Array<{ release: string; image: string }>;
  required: string[];
  /** Initrd copies loader entries boot (absent in changes journaled before they were handled). */
  copies?: LoaderCopy[];
};

const NAME = /^[A-Za-z0-9._+~-]+$/;
const BACKUP_DIR = '/var/lib/rollgate/backups';
/** Configuration the generators read: an image older than any of these is stale. */
const CONFIG_PATHS = [
  '/etc/modprobe.d',
  '/etc/initramfs-tools',
  '/etc/dracut.conf',
  '/etc/dracut.conf.d',
  '/etc/modules',
];

async function releases(ctx: ModuleContext, hr: HostRoot, kernel: string): Promise<string[]> {
  const r = await ctx.conn.exec(
    sh`for d in ${hr.path('/usr/lib/modules')}/* ${hr.path('/lib/modules')}/*; do [ -d "$d" ] && basename "$d"; done; true`,
  );
  const installed = [...new Set(r.stdout.split('\n').filter((l) => NAME.test(l)))].sort();
  if (kernel === 'all') return installed;
  const release = kernel === 'current' ? await runningKernel(ctx.conn, hr) : kernel;
  if (!installed.includes(release))
    throw new ModuleFailure(
      `kernel ${release} has no modules directory on this host (installed: ${installed.join(', ') || 'none'})`,
    );
  return [release];
}

/** Image state in one command: "release|exists|mtime.size|sha256|stale" per release. */
async function imageStates(ctx: ModuleContext, hr: HostRoot, t: InitramfsTooling, rels: string[]) {
  const configs = CONFIG_PATHS.map((p) => hr.path(p));
  const out: Array<{ release: string; image: string; exists: boolean; stamp: string; sha: string; stale: boolean }> =
    [];
  for (const release of rels) {
    const image = hr.path(imagePath(t, release));
    const r = await ctx.conn.exec(
      sh`i=${image}; if [ -f "$i" ]; then s=$(sha256sum < "$i") || exit 3; printf 'yes|%s|%s|' "$(stat -c '%Y.%s' -- "$i")" "\${s%% *}"; n=$(find ${configs} -newer "$i" -print 2>/dev/null | head -n1); [ -n "$n" ] && echo stale || echo fresh; else echo 'no|||stale'; fi`,
    );
    if (r.exitCode !== 0)
      throw new ModuleFailure(`cannot read the sha256 of ${image} (is sha256sum installed?): ${r.stderr.trim()}`);
    const [exists, stamp, sha, fresh] = r.stdout.trim().split('|');
    out.push({
      release,
      image,
      exists: exists === 'yes',
      stamp: stamp ?? '',
      sha: sha ?? '',
      stale: fresh !== 'fresh',
    });
  }
  return out;
}

/** Required modules missing from one image (inside it or built into the kernel). */
async function missingModules(
  ctx: ModuleContext,
  hr: HostRoot,
  t: InitramfsTooling,
  release: string,
  required: string[],
): Promise<string[]> {
  if (!t.list)
    throw new ModuleFailure(
      `${t.kind === 'dracut' ? 'lsinitrd' : 'lsinitramfs'} is not installed, so the initramfs contents cannot be proven`,
    );
  const listing = await runChecked(
    ctx.conn,
    toolCommand(hr, t.list, [imagePath(t, release)]),
    `listing ${imagePath(t, release)}`,
  );
  const builtin = await ctx.conn.exec(
    sh`cat ${hr.path(`/usr/lib/modules/${release}/modules.builtin`)} ${hr.path(`/lib/modules/${release}/modules.builtin`)} 2>/dev/null; true`,
  );
  const have = new Set([...modulesInImage(listing), ...builtinModules(builtin.stdout)]);
  return required.filter((m) => !have.has(normModule(m)));
}

export const initramfs = defineHostModule({
  name: 'initramfs',
  description: 'Rebuild the initramfs (update-initramfs or dracut) and prove the required modules are inside it.',
  changesHost: true,
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      kernel: { type: 'string', default: 'current', description: "'current', 'all' or a kernel release" },
      require_modules: { ...stringList, default: ['vfio', 'vfio_iommu_type1', 'vfio_pci'] },
    },
  },

  async check(ctx, args): Promise<CheckOutcome<InitramfsChange>> {
    const kernel = args.kernel ?? 'current';
    const required = args.require_modules ?? [...VFIO_MODULES];
    const bad = [kernel, ...required].filter((v) => !NAME.test(v));
    if (bad.length)
      throw new ModuleFailure(`not a kernel release or module name: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
    const hr = hostRootFromVars(ctx.vars);
    const t = await detectInitramfsTooling(ctx.conn, hr);
    if (!t) throw new ModuleFailure('neither update-initramfs nor dracut is installed');
    const states = await imageStates(ctx, hr, t, await releases(ctx, hr, kernel));
    const allCopies = await loaderCopies(
      ctx.conn,
      hr,
      states.map((s) => s.release),
      (r) => imagePath(t, r),
    );
    const sums = await sha256Of(
      ctx.conn,
      allCopies.flatMap((c) => [hr.path(c.copy), hr.path(c.entryFile)]),
    );
    const behind = (s: { release: string; sha: string }) =>
      allCopies.some((c) => c.release === s.release && sums.get(hr.path(c.copy)) !== s.sha);
    const todo: typeof states = [];
    for (const s of states)
      if (s.stale || behind(s) || (await missingModules(ctx, hr, t, s.release, required)).length) todo.push(s);
    if (todo.length === 0)
      return {
        status: 'no_change',
        reason: `initramfs of ${states.map((s) => s.release).join(', ')} holds ${required.join(', ')} and is newer than its configuration`,
      };

    const backupDir = hr.path(BACKUP_DIR);
    const commands: string[] = [];
    const restore: string[] = [];
    for (const s of todo) {
      const copy = `${backupDir}/${s.image.split('/').pop()}.${s.stamp}`;
      if (s.exists) {
        commands.push(sh`mkdir -p -- ${backupDir} || exit 1; ${copyScript(s.image, copy, s.sha)}`.text);
        // Guarded: a run killed before the copy was made has nothing to put back; a copy that is not the image
        // as it was (sha256 from this check) is refused and left for a person.
        restore.push(sh`if [ -f ${copy} ]; then (${copyScript(copy, s.image, s.sha)}) && rm -f -- ${copy}; fi`.text);
      } else restore.push(sh`rm -f -- ${s.image}`.text);
    }
    const copies = allCopies.filter((c) => todo.some((s) => s.release === c.release));
    const saved = new Set<string>();
    for (const path of copies.flatMap((c) => [c.copy, c.entryFile])) {
      if (saved.has(path)) continue;
      saved.add(path);
      const sha = sums.get(hr.path(path)) ?? '';
      if (!sha) continue;
      const copy = `${backupDir}/${path.replace(/^\//, '').replace(/\//g, '_')}.${backupStamp(todo)}`;
      commands.push(sh`mkdir -p -- ${backupDir} || exit 1; ${copyScript(hr.path(path), copy, sha)}`.text);
      restore.push(sh`if [ -f ${copy} ]; then (${copyScript(copy, hr.path(path), sha)}) && rm -f -- ${copy}; fi`.text);
    }
    commands.push(
      ...(kernel === 'all' ? [rebuildCommand(hr, t, 'all')] : todo.map((s) => rebuildCommand(hr, t, s.release))),
      ...(await refreshCommands(ctx, hr, t, copies)),
    );
    const change: InitramfsChange = {
      createdDirs: [],
      writes: [],
      commands,
      root: hr.root,
      tooling: t,
      required,
      proofs: todo.map((s) => ({ release: s.release, image: imagePath(t, s.release) })),
      copies,
    };
    return {
      status: 'change',
      change,
      preview: {
        summary: `rebuild the initramfs of ${todo.map((s) => s.release).join(', ')} with ${t.kind}${copies.length ? `, refresh the copy the boot loader loads (${copies.map((c) => c.copy).join(', ')})` : ''} and prove it holds ${required.join(', ')}`,
        files: [],
        commands,
      },
      undo: {
        files: [],
        rebuild: [],
        restore,
        createdDirs: todo.some((s) => s.exists) ? await missingDirs(ctx.conn, backupDir) : [],
      },
      rebootRequired: true,
    };
  },

  async apply(ctx, _args, change) {
    await applyFileChange(ctx.conn, change);
    const hr = hostRootFromVars({ rollgate_root: change.root });
    const copies = change.copies ?? [];
    if (copies.length) {
      const sums = await sha256Of(ctx.conn, [
        ...change.proofs.map((p) => hr.path(p.image)),
        ...copies.map((c) => hr.path(c.copy)),
      ]);
      for (const c of copies) {
        const image = change.proofs.find((p) => p.release === c.release)?.image ?? '';
        if (sums.get(hr.path(c.copy)) !== sums.get(hr.path(image)))
          throw new ModuleFailure(
            `${c.entryFile} boots ${c.copy}, which is not the rebuilt ${image} (sha256 differs) after kernel-install add; the next boot would not load the rebuilt image`,
          );
      }
    }
    for (const p of change.proofs) {
      const missing = await missingModules(ctx, hr, change.tooling, p.release, change.required);
      if (missing.length) {
        const where =
          change.tooling.kind === 'dracut' ? '/etc/dracut.conf.d/ (force_drivers+=)' : '/etc/initramfs-tools/modules';
        throw new ModuleFailure(
          `${p.image} was rebuilt but lacks ${missing.join(', ')}; list ${missing.length === 1 ? 'it' : 'them'} in ${where} (vfio_bind does) and rebuild`,
        );
      }
    }
    return {
      message: `initramfs rebuilt for ${change.proofs.map((p) => p.release).join(', ')}${copies.length ? ` (the boot loader's ${copies.length === 1 ? 'copy' : 'copies'} the same bytes)` : ''}; holds ${change.required.join(', ')}`,
      data: { images: change.proofs.map((p) => p.image) },
    };
  },
  // A rebuild that proved the vfio modules inside (the default require_modules) must show them after the boot.
  expectAfterBoot(exp, { args }) {
    const required = args.require_modules === undefined ? ['vfio_pci'] : listOption(args.require_modules);
    if (
      required.includes('vfio_pci') &&
      (args.kernel === undefined || args.kernel === 'current' || args.kernel === 'all')
    )
      exp.vfioInInitramfs = true;
  },
});

/** A stamp for backup names of loader copies: the first image's mtime.size (the same run's check). */
function backupStamp(todo: Array<{ stamp: string }>): string {
  return todo[0]?.stamp || 'new';
}

/**
 * Per release with loader copies: when the rebuilt image and its copy differ, the host's `kernel-install add
 * RELEASE KERNEL IMAGE` (what Debian's post-update hook runs after update-initramfs; nothing runs it after dracut),
 * or, on a host without kernel-install, a verified copy of the image over the copy.
 */
async function refreshCommands(
  ctx: ModuleContext,
  hr: HostRoot,
  t: InitramfsTooling,
  copies: LoaderCopy[],
): Promise<string[]> {
  if (copies.length === 0) return [];
  const tool = (await findTools(ctx.conn, hr, ['kernel-install']))['kernel-install'];
  const kernels = tool ? await installedKernelImages(ctx.conn, hr) : [];
  const out: string[] = [];
  for (const release of [...new Set(copies.map((c) => c.release))]) {
    const image = imagePath(t, release);
    const mine = copies.filter((c) => c.release === release);
    const differs = mine.map((c) => sh`! cmp -s ${hr.path(image)} ${hr.path(c.copy)}`.text).join(' || ');
    const kernel = kernels.find((k) => k.release === release);
    const refresh =
      tool && kernel
        ? toolCommand(hr, tool, ['add', release, hr.hostPath(kernel.image), image]).text
        : mine.map((c) => copyScript(hr.path(image), hr.path(c.copy)).text).join(' && ');
    out.push(`if ${differs}; then ${refresh}; fi`);
  }
  return out;
}
