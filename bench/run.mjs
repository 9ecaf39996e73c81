#!/usr/bin/env node
// The fleet benchmark: the health snapshot (bench/health.sh) on N local sshd hosts by rollgate exec, the bare
// ssh2 lower bound, parallel OpenSSH and ansible-playbook (stock and tuned, raw and shell tasks); and the full
// snapshot (`rollgate snapshot`) against ssh2 running the same collection script (ssh2-snapshot). Commands are
// run in a rotating order in every repetition; wall, CPU (user+sys of the tool and its children) and peak RSS
// come from /usr/bin/time -v; ratios are medians of per-repetition ratios to the ssh2 lower bound.
//   npm run build && node bench/run.mjs [--sizes 10,50,100] [--reps 3] [--tools rollgate,ssh2,...] [--json FILE]
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { localFleetDown, localFleetUp } from '../dist/lab/local-fleet.js';
import { ansibleEnv, ansibleInventory } from './ansible-setup.mjs';
import { $ } from 'zx';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const health = join(root, 'bench', 'health.sh');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,50,100' },
    reps: { type: 'string', default: '3' },
    tools: {
      type: 'string',
      default:
        'ssh2,rollgate,ssh2-snapshot,rollgate-snapshot,ssh,ssh-curve25519,ansible-raw-tuned,ansible-shell-tuned,ansible-raw-stock,ansible-shell-stock',
    },
    json: { type: 'string' },
  },
});

/** Each tool: argv to run for a fleet in `dir` of `n` hosts, and extra environment. */
const TOOLS = {
  ssh2: (dir) => ({ argv: ['node', join(root, 'bench', 'ssh2-lower-bound.mjs'), dir, health] }),
  rollgate: (dir) => ({
    argv: [
      'node',
      join(root, 'bin', 'rollgate.js'),
      'exec',
      '-i',
      join(dir, 'inventory.yml'),
      '--',
      readFileSync(health, 'utf8'),
    ],
  }),
  ssh: (dir) => ({ argv: ['bash', join(root, 'bench', 'parallel-ssh.sh'), dir, health] }),
  'ssh-curve25519': (dir) => ({
    argv: ['bash', join(root, 'bench', 'parallel-ssh.sh'), dir, health, '-o', 'KexAlgorithms=curve25519-sha256'],
  }),
  // The full passthrough health snapshot (every source of `rollgate check`), one command per host.
  'ssh2-snapshot': (dir) => ({
    argv: ['node', join(root, 'bench', 'ssh2-lower-bound.mjs'), dir, join(dir, 'snapshot-script.sh'), '--stdin'],
  }),
  'rollgate-snapshot': (dir) => ({
    argv: [
      'node',
      join(root, 'bin', 'rollgate.js'),
      'snapshot',
      '-i',
      join(dir, 'inventory.yml'),
      '-o',
      join(dir, 'snapshots'),
    ],
  }),
  'ansible-raw-stock': (dir, n) => ansible(dir, n, 'raw', false),
  'ansible-raw-tuned': (dir, n) => ansible(dir, n, 'raw', true),
  'ansible-shell-stock': (dir, n) => ansible(dir, n, 'shell', false),
  'ansible-shell-tuned': (dir, n) => ansible(dir, n, 'shell', true),
};

function ansible(dir, n, kind, tuned) {
  const controlDir = mkdtempSync(join(tmpdir(), 'rg-bench-cp-'));
  return {
    argv: [
      '/usr/bin/ansible-playbook',
      '-i',
      join(dir, 'ansible-inventory.yml'),
      join(root, 'bench', 'ansible', `${kind}.yml`),
      '-e',
      `health_file=${health}`,
    ],
    env: ansibleEnv(n, tuned, controlDir),
    // ControlPersist masters outlive the run: stop them so the next run starts cold and they cost no CPU later.
    cleanup: async () => {
      // nothrow: a master that is already gone is fine.
      for (const sock of readdirSync(controlDir))
        await $({ nothrow: true, quiet: true, timeout: '10s' })`ssh -S ${join(controlDir, sock)} -O exit x`;
      rmSync(controlDir, { recursive: true, force: true });
    },
  };
}

function parseTime(text) {
  const get = (label) =>
    text
      .split('\n')
      .find((l) => l.trim().startsWith(label))
      ?.split(': ')
      .pop()
      ?.trim() ?? '';
  // h:mm:ss or m:ss.ss
  const wall = get('Elapsed (wall clock) time')
    .split(':')
    .map(Number)
    .reduce((acc, p) => acc * 60 + p, 0);
  return {
    wall,
    cpu: Number(get('User time (seconds)')) + Number(get('System time (seconds)')),
    rssMb: Number(get('Maximum resident set size (kbytes)')) / 1024,
  };
}

async function measure(tool, dir, n) {
  const spec = TOOLS[tool](dir, n);
  const timeFile = join(dir, 'time.txt');
  const out = await $({
    cwd: dir,
    env: { ...process.env, SSH_AUTH_SOCK: '', ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    nothrow: true,
    quiet: true,
    timeout: '20m',
    timeoutSignal: 'SIGKILL',
  })`/usr/bin/time -v -o ${timeFile} ${spec.argv}`;
  await spec.cleanup?.();
  const t = parseTime(readFileSync(timeFile, 'utf8'));
  const code = out.exitCode;
  return { tool, n, code, ...t, tail: code === 0 ? undefined : out.stdall.slice(-600) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const tools = values.tools.split(',');
const BOUND_OF = { 'rollgate-snapshot': 'ssh2-snapshot', 'ssh2-snapshot': 'ssh2-snapshot' };
const reps = Number(values.reps);
const all = [];
for (const n of values.sizes.split(',').map(Number)) {
  const dir = join(root, '.local-fleet', `bench-${n}`);
  const state = await localFleetUp(dir, n);
  try {
    writeFileSync(join(dir, 'ports.txt'), state.hosts.map((h) => h.port).join('\n') + '\n');
    writeFileSync(join(dir, 'ansible-inventory.yml'), ansibleInventory(state));
    await $`node ${join(root, 'bench', 'snapshot-script.mjs')} ${join(dir, 'snapshot-script.sh')}`;
    await measure('ssh2', dir, n); // warm-up: page cache, sshd binaries
    for (let rep = 0; rep < reps; rep++) {
      const order = tools.map((_, i) => tools[(i + rep) % tools.length]);
      for (const tool of order) {
        const r = { ...(await measure(tool, dir, n)), rep };
        all.push(r);
        process.stderr.write(
          `N=${n} rep ${rep + 1}/${reps} ${tool}: ${r.wall.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s cpu, ${r.rssMb.toFixed(0)} MB${r.code ? ` EXIT ${r.code}: ${r.tail}` : ''}\n`,
        );
      }
    }
  } finally {
    localFleetDown(dir);
  }
  console.log(`\n### N = ${n} (${reps} repetitions, medians)\n`);
  console.log('| tool | wall s | CPU s | peak RSS MB | wall / ssh2 bound (paired median) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const tool of tools) {
    const rs = all.filter((r) => r.n === n && r.tool === tool);
    // Each tool against the bound doing the same work: the snapshot against ssh2 running the snapshot script.
    const boundTool = BOUND_OF[tool] ?? 'ssh2';
    const ratios = rs.flatMap((r) => {
      const b = all.find((x) => x.n === n && x.rep === r.rep && x.tool === boundTool);
      return b ? [r.wall / b.wall] : [];
    });
    const bad = rs.some((r) => r.code !== 0) ? ' (FAILED runs)' : '';
    const ratio = ratios.length
      ? `${median(ratios).toFixed(2)}x${boundTool === 'ssh2' ? '' : ` (vs ${boundTool})`}`
      : `n/a (no ${boundTool} run)`;
    console.log(
      `| ${tool}${bad} | ${median(rs.map((r) => r.wall)).toFixed(2)} | ${median(rs.map((r) => r.cpu)).toFixed(2)} | ${median(rs.map((r) => r.rssMb)).toFixed(0)} | ${ratio} |`,
    );
  }
}
if (values.json) writeFileSync(values.json, JSON.stringify(all, null, 2) + '\n');
