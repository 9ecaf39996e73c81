/**
 * The rollout planner at fleet size: an inventory of N hypervisors in C clusters (group_vars with
 * rollgate_cluster and rollgate_max_down per cluster, 25 hardware kinds with their passthrough_devices, host_vars
 * for one host in ten) is loaded, every host's cluster cap read, kinds derived, canaries and batches planned
 * (serial [1, "5%", "25%"]), and each batch's cluster waves counted. Prints the wall time of each stage and the
 * process's peak RSS. The target (issue 15): 10,000 hosts in 500 clusters in <= 2 s and <= 300 MiB.
 * Run: npx vite-node bench/plan-scale.ts [HOSTS CLUSTERS]   (default 10000 500)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../src/load/inventory.js';
import { selectHosts } from '../src/load/limit.js';
import { clusterCapOf, type ClusterCap } from '../src/strategy/cluster.js';
import { hardwareKind } from '../src/strategy/hardware-kind.js';
import { planRollout } from '../src/strategy/plan.js';
import { parseRolloutSettings } from '../src/strategy/settings.js';

const [hostsArg, clustersArg] = process.argv.slice(2).map(Number);
const N = hostsArg && hostsArg > 0 ? hostsArg : 10_000;
const C = clustersArg && clustersArg > 0 ? clustersArg : 500;
const KINDS = 25;

function makeInventory(dir: string): string {
  mkdirSync(join(dir, 'group_vars'));
  mkdirSync(join(dir, 'host_vars'));
  const lines = ['all:', '  children:', '    hypervisors:', '      children:'];
  const perCluster = Math.ceil(N / C);
  for (let c = 0; c < C; c++) {
    lines.push(`        cluster_${c}:`, '          hosts:');
    for (let i = c * perCluster; i < Math.min(N, (c + 1) * perCluster); i++)
      lines.push(`            hv${i}: {ansible_host: 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}}`);
    writeFileSync(
      join(dir, 'group_vars', `cluster_${c}.yml`),
      `rollgate_cluster: c${c}\nrollgate_max_down: ${1 + (c % 3)}\n`,
    );
  }
  lines.push('    # hardware kinds');
  for (let k = 0; k < KINDS; k++) {
    lines.push(`    kind_${k}:`, '      hosts:');
    for (let i = k; i < N; i += KINDS) lines.push(`        hv${i}:`);
    writeFileSync(
      join(dir, 'group_vars', `kind_${k}.yml`),
      `passthrough_devices: ["10de:${(0x1000 + k).toString(16)}"]\n`,
    );
  }
  for (let i = 0; i < N; i += 10) writeFileSync(join(dir, 'host_vars', `hv${i}.yml`), `rack: r${i % 40}\n`);
  const file = join(dir, 'hosts.yml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const dir = mkdtempSync(join(tmpdir(), 'rg-bench-plan-'));
try {
  const file = makeInventory(dir);
  const t0 = performance.now();
  const inv = loadInventory(file);
  const names = selectHosts(inv, 'hypervisors');
  const t1 = performance.now();
  const caps = new Map<string, ClusterCap>();
  const clusterOf = new Map<string, string>();
  for (const name of names) {
    const setting = clusterCapOf(inv.hosts.get(name)?.vars ?? {});
    if (!setting.ok) throw new Error(`${name}: ${setting.message}`);
    if (setting.cap) {
      caps.set(setting.cap.cluster, setting.cap);
      clusterOf.set(name, setting.cap.cluster);
    }
  }
  // Kinds come from each host's quick snapshot in a real rollout; here from its passthrough_devices.
  const kinded = names.map((name) => {
    const ids = (inv.hosts.get(name)?.vars.passthrough_devices as string[] | undefined) ?? [];
    return {
      name,
      kind: hardwareKind({ productName: 'PowerEdge R750', cpuVendor: 'GenuineIntel', passthroughIds: ids }),
    };
  });
  const { settings, problems } = parseRolloutSettings({ serial: [1, '5%', '25%'] });
  if (problems.length > 0) throw new Error(problems[0]?.message);
  const plan = planRollout(kinded, settings);
  // Cluster waves: how many rounds each batch needs at most so that no cluster exceeds its cap.
  let waves = 0;
  for (const batch of plan.batches) {
    const inCluster = new Map<string, number>();
    for (const h of batch.hosts) {
      const c = clusterOf.get(h);
      if (c) inCluster.set(c, (inCluster.get(c) ?? 0) + 1);
    }
    let most = 1;
    for (const [c, n] of inCluster) most = Math.max(most, Math.ceil(n / (caps.get(c)?.maxDown ?? 1)));
    waves += most;
  }
  const t2 = performance.now();
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `plan-scale: ${names.length} hosts, ${caps.size} clusters, ${plan.kinds.size} kinds, ${plan.canaries.length} canaries, ` +
      `${plan.batches.length} batches, ${waves} cluster waves`,
  );
  console.log(
    `plan-scale: load+select ${(t1 - t0).toFixed(0)} ms, caps+kinds+plan ${(t2 - t1).toFixed(0)} ms, ` +
      `total ${(t2 - t0).toFixed(0)} ms, peak RSS ${rss.toFixed(0)} MiB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
