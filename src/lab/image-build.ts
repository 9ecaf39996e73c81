/**
 * Running lab/image/build.sh (through zx): its environment, its progress lines, its timeout over the whole process
 * group, and the last lines of a failed build.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { recipeDir, type LabSettings } from './settings.js';

export const IMAGE_SUITE = 'bookworm';

/** The environment build.sh reads (lab/image/build.sh's header lists it). */
function buildEnv(settings: LabSettings, env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...env,
    MIRROR: settings.mirror,
    SUITE: IMAGE_SUITE,
    DEB_CACHE: join(settings.cacheDir, 'debs'),
    FIRSTBOOT_TIMEOUT: String(Math.round(settings.firstbootTimeoutMs / 1000)),
    PARENT_PID: String(process.pid),
  };
}

/** Collects build.sh's lines: the last 60 for a failure, `stage: ` ones to onLine as they come. */
function lineTaker(onLine: (line: string) => void): { take: (chunk: Buffer) => void; tail: string[] } {
  const tail: string[] = [];
  let partial = '';
  const take = (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 60) tail.shift();
      if (line.startsWith('stage: ')) onLine(line.slice(7));
    }
  };
  return { take, tail };
}

/**
 * Run build.sh in its own process group (detached: build.sh stops the group when rollgate dies). The timeout
 * SIGKILLs the group in one call, not through zx's timeout: zx kills descendants one by one, and build.sh could
 * see its debootstrap or QEMU die and carry on before its own turn comes.
 */
export async function runBuild(
  settings: LabSettings,
  env: Record<string, string>,
  onLine: (line: string) => void,
  script = join(recipeDir(), 'build.sh'),
): Promise<void> {
  try {
    accessSync(script, constants.X_OK);
  } catch (err) {
    throw new Error(`cannot run the lab image build: ${(err as Error).message} (are debootstrap and qemu installed? run scripts/setup.sh)`);
  }
  const { take, tail } = lineTaker(onLine);
  const build = $({
    env: buildEnv(settings, env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    nothrow: true,
    quiet: true,
  })`${script}`;
  build.stdout.on('data', take);
  build.stderr.on('data', take);
  const timer = setTimeout(() => killGroup(build.pid), settings.buildTimeoutMs);
  const out = await build.finally(() => clearTimeout(timer));
  if (out.exitCode === 0) return;
  const how = out.signal ? `killed by ${out.signal}` : `exit ${out.exitCode}`;
  throw new Error(`lab image build failed (${how}); last lines:\n${tail.join('\n')}`);
}

function killGroup(pid: number | undefined): void {
  try {
    if (pid !== undefined) process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
