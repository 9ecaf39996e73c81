/**
 * The lab's guest images: the GRUB image built from Debian's packages by lab/image/build.sh, and the systemd-boot
 * image derived from it by lab/image-systemd-boot/derive.sh. Each is cached under <cacheDir>/images/<recipe hash>/,
 * rebuilt only when its recipe changes (the GRUB image: every file of lab/image/, the mirror, the suite; the
 * systemd-boot image: the GRUB image's hash and every file of lab/image-systemd-boot/; the guests image of
 * `lab up --guests`, derived by lab/image-guests/derive.sh: the GRUB image's hash and every file of
 * lab/image-guests/). umount runs through zx;
 * the scripts are run by image-build.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { $ } from 'zx';
import { IMAGE_SUITE, runBuild } from './image-build.js';
import { withLockFile } from './lock-file.js';
import { guestsRecipeDir, recipeDir, sdbootRecipeDir, type LabSettings } from './settings.js';
import type { LabBootLoader } from './kinds.js';

export { IMAGE_SUITE };

/** Which image: one per boot loader, and the GRUB image with libvirt and nested guests (`lab up --guests`). */
export type LabImageVariant = LabBootLoader | 'guests';

/** The derived images: their derivation script's directory (each derived from the GRUB image). */
const DERIVED: Record<Exclude<LabImageVariant, 'grub'>, () => string> = { 'systemd-boot': sdbootRecipeDir, guests: guestsRecipeDir };

/** manifest.json written by build.sh. */
export interface ImageManifest {
  recipeHash: string;
  suite: string;
  mirror: string;
  /** The release the image runs (the older of the suite's two newest kernel ABIs), e.g. 6.1.0-47-amd64. */
  kernel: string;
  /** The good kernel update in the guest's local apt repository (the newer ABI), e.g. 6.1.0-50-amd64. */
  updateKernel: string;
  /** The bad kernel in that repository (the running kernel's binary under an ABI name that sorts newest). */
  badKernel: string;
  rootUuid: string;
  diskSize: string;
  builtAt: string;
  buildSeconds: number;
  imageBytes: number;
  /** 'systemd-boot' for the derived image (booted through OVMF); absent for the GRUB image. */
  bootLoader?: 'systemd-boot';
  /** 'guests' for the image of `lab up --guests` (libvirt, the nested guests' kernel and initramfs). */
  variant?: 'guests';
  /** The GRUB image's hash a derived image (systemd-boot, guests) was derived from. */
  baseImage?: string;
}

export interface LabImage {
  dir: string;
  hash: string;
  /** Read-only qcow2 every VM overlay is backed by. */
  base: string;
  /** Operator private key authorised for root and rgops in the image. */
  operatorKey: string;
  manifest: ImageManifest;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

function hashFiles(h: ReturnType<typeof createHash>, dir: string): string {
  for (const file of listFiles(dir).sort()) {
    const mode = statSync(file).mode & 0o111 ? 'x' : '-';
    h.update(`${relative(dir, file)}\0${mode}\0`);
    h.update(readFileSync(file));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** sha256 over everything that shapes the image: recipe files (path, exec bit, bytes), mirror and suite. */
export function recipeHash(dir: string, mirror: string, suite = IMAGE_SUITE): string {
  const h = createHash('sha256');
  h.update(`suite=${suite}\nmirror=${mirror}\n`);
  return hashFiles(h, dir);
}

/** The systemd-boot image's hash: the GRUB image it is derived from, and the derivation's files. */
export function sdbootRecipeHash(grubHash: string, dir = sdbootRecipeDir()): string {
  return hashFiles(createHash('sha256').update(`systemd-boot from ${grubHash}\n`), dir);
}

/** The guests image's hash: the GRUB image it is derived from, and the derivation's files. */
export function guestsRecipeHash(grubHash: string, dir = guestsRecipeDir()): string {
  return hashFiles(createHash('sha256').update(`guests from ${grubHash}\n`), dir);
}

/** The current recipe hash of each image. */
export function currentHashes(settings: LabSettings): Record<LabImageVariant, string> {
  const grub = recipeHash(recipeDir(), settings.mirror);
  return { grub, 'systemd-boot': sdbootRecipeHash(grub), guests: guestsRecipeHash(grub) };
}

function imageAt(dir: string, hash: string): LabImage | undefined {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile) || !existsSync(join(dir, 'base.qcow2'))) return undefined;
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as ImageManifest;
  return { dir, hash, base: join(dir, 'base.qcow2'), operatorKey: join(dir, 'id_ed25519'), manifest };
}

/** The cached image for the current recipe, if built. */
export function currentImage(settings: LabSettings, loader: LabImageVariant = 'grub'): LabImage | undefined {
  const hash = currentHashes(settings)[loader];
  return imageAt(join(settings.cacheDir, 'images', hash), hash);
}

/**
 * Build the image unless the current recipe's is cached. `onLine` receives the build's progress lines. The
 * derived images (systemd-boot, guests) need the GRUB image: that is built (or found) first.
 */
export async function ensureImage(
  settings: LabSettings,
  onLine: (line: string) => void = () => {},
  /** Images still in use (by a running lab) that the build must not prune. */
  keepHashes: readonly string[] = [],
  loader: LabImageVariant = 'grub',
): Promise<LabImage> {
  const hashes = currentHashes(settings);
  const hash = hashes[loader];
  const base = loader !== 'grub' ? await ensureImage(settings, onLine, keepHashes, 'grub') : undefined;
  const imagesDir = join(settings.cacheDir, 'images');
  const dir = join(imagesDir, hash);
  const cached = imageAt(dir, hash);
  if (cached) return cached;
  if (process.getuid?.() !== 0) {
    throw new Error('building the lab image needs root (debootstrap, chroot, mounts); run as root, or copy a built image into ' + imagesDir);
  }
  return withLockFile(join(imagesDir, '.build.lock'), settings.buildTimeoutMs, 'lab image build', async () => {
    const again = imageAt(dir, hash);
    if (again) return again;
    const work = join(imagesDir, `${hash}.work`);
    const out = join(imagesDir, `${hash}.tmp`);
    await removeBuildDir(work);
    await removeBuildDir(out);
    mkdirSync(work, { recursive: true });
    if (base && loader !== 'grub') await runBuild(settings, { OUT: out, WORK: work, RECIPE_HASH: hash, BASE_DIR: base.dir }, onLine, join(DERIVED[loader](), 'derive.sh'));
    else await runBuild(settings, { OUT: out, WORK: work, RECIPE_HASH: hash }, onLine);
    renameSync(out, dir);
    await removeBuildDir(work);
    // Older images go, unless a lab (this one or another checkout's) still runs VMs on them.
    const open = filesOpenByProcesses();
    for (const name of readdirSync(imagesDir)) {
      const old = join(imagesDir, name);
      // Leftovers of failed builds (only one build runs at a time: we hold the lock).
      if (/^[0-9a-f]{16}\.(work|tmp)$/.test(name)) {
        await removeBuildDir(old);
        continue;
      }
      // Every variant's current image stays: a GRUB build must not prune the systemd-boot or guests image, nor the reverse.
      if (Object.values(hashes).includes(name) || keepHashes.includes(name) || !/^[0-9a-f]{16}$/.test(name)) continue;
      if (![...open].some((f) => f.startsWith(old + '/'))) rmSync(old, { recursive: true, force: true });
    }
    const built = imageAt(dir, hash);
    if (!built) throw new Error(`lab image build finished without ${dir}/base.qcow2`);
    return built;
  });
}

/**
 * Remove a build directory, first unmounting whatever a killed build left mounted in its chroot (proc, sys,
 * a bind of the host's /dev): a recursive delete would otherwise walk into the host's /dev.
 */
export async function removeBuildDir(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const mountsUnder = () =>
    readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '')
      .map((p) => p.replace(/\\040/g, ' ')).filter((p) => p.startsWith(dir + '/'));
  // A failed umount is checked below.
  for (const m of mountsUnder().sort((a, b) => b.length - a.length))
    await $({ stdio: 'ignore', nothrow: true, quiet: true })`umount -l ${m}`;
  const left = mountsUnder();
  if (left.length) throw new Error(`refusing to delete ${dir}: still mounted inside it: ${left.join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
}

/** Paths every process on the machine holds open (/proc/<pid>/fd), to spare images QEMU still reads. */
function filesOpenByProcesses(): Set<string> {
  const open = new Set<string>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        open.add(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        // closed meanwhile
      }
    }
  }
  return open;
}
