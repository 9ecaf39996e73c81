/**
 * Which boot tooling a host uses, found by looking (tools and files under the host root), never by distro name:
 *   proxmox       proxmox-boot-tool with /etc/kernel/proxmox-boot-uuids: /etc/kernel/cmdline (systemd-boot) or
 *                 /etc/default/grub, then `proxmox-boot-tool refresh`
 *   grubby        Fedora/RHEL: `grubby --update-kernel=ALL` edits the boot entries; /etc/default/grub is kept in
 *                 step for future kernels, and grub2-mkconfig runs where entries are not BLS snippets
 *   grub          Debian/Ubuntu: /etc/default/grub + grub.d/*.cfg, then update-grub (or grub-mkconfig /
 *                 grub2-mkconfig -o the right grub.cfg)
 *   systemd-boot  kernel-install: /etc/kernel/cmdline, then `kernel-install add` for each installed kernel
 */
import type { Connection } from '../../connection/connection.js';
import { sh } from '../../connection/shell-quote.js';
import { findTools, toolCommand, type HostRoot } from '../host-root.js';
import { listRemoteDir, readRemoteFiles } from '../host-files.js';
import { ModuleFailure } from '../module.js';

export type BootloaderChoice = 'auto' | 'grub' | 'grubby' | 'systemd-boot' | 'proxmox';

export interface BootTooling {
  kind: Exclude<BootloaderChoice, 'auto'>;
  /** Rooted paths of /etc/default/grub and its drop-ins, in the order grub-mkconfig sources them ([] if unused). */
  grubFiles: string[];
  /** Rooted /etc/kernel/cmdline when the tooling reads it. */
  cmdlineFile: string | null;
  /** grubby's path (grubby only). */
  grubby: string | null;
  /** Commands that regenerate boot configuration from the files, in order. */
  refresh: string[];
  /** The grub.cfg that `refresh` writes, when known (used to verify the result). */
  grubCfg: string | null;
  /** Files the tools rewrite (boot entries, grubenv): backed up for undo, not written by rollgate. */
  toolWrittenFiles: string[];
  /** /etc/default/grub sets GRUB_ENABLE_BLSCFG=true: GRUB builds its menu from BLS entries at boot. */
  blscfg: boolean;
}

const TOOLS = [
  'update-grub',
  'grub-mkconfig',
  'grub2-mkconfig',
  'grubby',
  'kernel-install',
  'proxmox-boot-tool',
] as const;
const EFI_VENDORS = ['fedora', 'redhat', 'centos', 'rocky', 'almalinux'];

async function grubFilesOf(conn: Connection, hr: HostRoot): Promise<string[]> {
  return [hr.path('/etc/default/grub'), ...(await listRemoteDir(conn, hr.path('/etc/default/grub.d'), '*.cfg'))];
}

/**
 * The kernels' loader entries. Not a staged rollout's own (`rollgate-known-good.conf`, `rollgate-trial*.conf`):
 * the trial boot writes and removes those, so a change's undo must not bring them back after a commit.
 */
async function entryFiles(conn: Connection, hr: HostRoot): Promise<string[]> {
  const dirs = ['/boot/loader/entries', '/efi/loader/entries', '/boot/efi/loader/entries'];
  const lists = await Promise.all(dirs.map((d) => listRemoteDir(conn, hr.path(d), '*.conf')));
  return lists.flat().filter((f) => !/\/rollgate-(known-good|trial)[^/]*\.conf$/.test(f));
}

/** grub2-mkconfig's output: a real (non-stub) grub.cfg on the ESP as in older Fedora, else /boot/grub2/grub.cfg. */
async function grub2CfgPath(conn: Connection, hr: HostRoot): Promise<string> {
  const candidates = EFI_VENDORS.map((v) => hr.path(`/boot/efi/EFI/${v}/grub.cfg`));
  const files = await readRemoteFiles(conn, candidates);
  const real = files.find((f) => f.exists && !/^\s*configfile\b/m.test(f.content.toString('utf8')));
  return real?.path ?? hr.path('/boot/grub2/grub.cfg');
}

export async function detectBootTooling(
  conn: Connection,
  hr: HostRoot,
  choice: BootloaderChoice = 'auto',
): Promise<BootTooling> {
  const tools = await findTools(conn, hr, TOOLS);
  const [grubDefault, kernelCmdline, pveUuids] = await readRemoteFiles(conn, [
    hr.path('/etc/default/grub'),
    hr.path('/etc/kernel/cmdline'),
    hr.path('/etc/kernel/proxmox-boot-uuids'),
  ]);
  const hasGrubDefault = grubDefault!.exists;
  const blscfg = hasGrubDefault && /^\s*GRUB_ENABLE_BLSCFG=["']?true/m.test(grubDefault!.content.toString('utf8'));
  const mkconfig = tools['update-grub'] ?? tools['grub-mkconfig'] ?? tools['grub2-mkconfig'];
  let kind: BootTooling['kind'] | undefined = choice === 'auto' ? undefined : choice;
  if (!kind) {
    if (tools['proxmox-boot-tool'] && pveUuids!.exists) kind = 'proxmox';
    else if (tools.grubby) kind = 'grubby';
    else if (hasGrubDefault && mkconfig) kind = 'grub';
    else if (tools['kernel-install']) kind = 'systemd-boot';
    else
      throw new ModuleFailure(
        `no boot tooling rollgate knows found under ${hr.root} (looked for ${TOOLS.join(', ')} and /etc/default/grub)`,
      );
  }
  const base: BootTooling = {
    kind,
    grubFiles: [],
    cmdlineFile: null,
    grubby: null,
    refresh: [],
    grubCfg: null,
    toolWrittenFiles: [],
    blscfg,
  };
  switch (kind) {
    case 'proxmox': {
      const tool = tools['proxmox-boot-tool'];
      if (!tool) throw new ModuleFailure('bootloader proxmox asked for, but proxmox-boot-tool is not installed');
      const useCmdline = kernelCmdline!.exists || !hasGrubDefault;
      return {
        ...base,
        ...(useCmdline ? { cmdlineFile: hr.path('/etc/kernel/cmdline') } : { grubFiles: await grubFilesOf(conn, hr) }),
        refresh: [toolCommand(hr, tool, ['refresh']).text],
        toolWrittenFiles: await entryFiles(conn, hr),
      };
    }
    case 'grubby': {
      if (!tools.grubby) throw new ModuleFailure('bootloader grubby asked for, but grubby is not installed');
      const mk = tools['grub2-mkconfig'] ?? tools['grub-mkconfig'];
      const cfg = hasGrubDefault && !blscfg && mk ? await grub2CfgPath(conn, hr) : null;
      const grubenv = [hr.path('/boot/grub2/grubenv')];
      const env = (await readRemoteFiles(conn, grubenv)).filter((f) => f.exists).map((f) => f.path);
      return {
        ...base,
        grubby: tools.grubby,
        grubFiles: hasGrubDefault ? await grubFilesOf(conn, hr) : [],
        refresh: cfg && mk ? [toolCommand(hr, mk, ['-o', hr.hostPath(cfg)]).text] : [],
        grubCfg: cfg,
        toolWrittenFiles: [...(await entryFiles(conn, hr)), ...env],
      };
    }
    case 'grub': {
      if (!hasGrubDefault || !mkconfig)
        throw new ModuleFailure(
          `bootloader grub needs ${hr.path('/etc/default/grub')} and update-grub or grub-mkconfig`,
        );
      const cfg =
        tools['update-grub'] || tools['grub-mkconfig'] ? hr.path('/boot/grub/grub.cfg') : await grub2CfgPath(conn, hr);
      const cmd = tools['update-grub']
        ? toolCommand(hr, tools['update-grub'])
        : toolCommand(hr, mkconfig, ['-o', hr.hostPath(cfg)]);
      return { ...base, grubFiles: await grubFilesOf(conn, hr), refresh: [cmd.text], grubCfg: cfg };
    }
    case 'systemd-boot': {
      const tool = tools['kernel-install'];
      if (!tool) throw new ModuleFailure('bootloader systemd-boot asked for, but kernel-install is not installed');
      const kernels = await installedKernelImages(conn, hr);
      return {
        ...base,
        cmdlineFile: hr.path('/etc/kernel/cmdline'),
        refresh: kernels.map(
          (k) =>
            toolCommand(hr, tool, [
              'add',
              k.release,
              hr.hostPath(k.image),
              ...(k.initrd ? [hr.hostPath(k.initrd)] : []),
            ]).text,
        ),
        toolWrittenFiles: await entryFiles(conn, hr),
      };
    }
  }
}

/**
 * The installed kernels and what `kernel-install add` needs for each: the image under /usr/lib/modules/RELEASE/vmlinuz
 * (kernel-install's layout), else /boot/vmlinuz-RELEASE (Debian's packages keep no image there: on the systemd-boot
 * lab VM a kernel_args change found no kernel and rewrote no entry), and where /boot/initrd.img-RELEASE exists
 * (initramfs-tools) that initrd, as Debian's /etc/initramfs/post-update.d/systemd-boot passes it (Debian's
 * 85-initrd.install would pick the same file when none is given; kernel-install elsewhere copies only those given).
 */
export async function installedKernelImages(
  conn: Connection,
  hr: HostRoot,
): Promise<Array<{ release: string; image: string; initrd?: string }>> {
  const r = await conn.exec(
    sh`M=${hr.path('/usr/lib/modules')}; B=${hr.path('/boot')}
for d in "$M"/*/; do
  rel=$(basename "$d"); img=
  if [ -f "$d/vmlinuz" ]; then img="$d/vmlinuz"; elif [ -f "$B/vmlinuz-$rel" ]; then img="$B/vmlinuz-$rel"; fi
  [ -n "$img" ] || continue
  ird=; [ -f "$B/initrd.img-$rel" ] && ird="$B/initrd.img-$rel"
  printf '%s\t%s\t%s\n' "$rel" "$img" "$ird"
done; true`,
  );
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [release, image, initrd] = line.split('\t') as [string, string, string | undefined];
      return { release, image: image.replace(/\/\/+/g, '/'), ...(initrd ? { initrd } : {}) };
    });
}
