/**
 * How long loading an inventory takes as the fleet grows: N hosts in 20 hardware-kind groups under two
 * regions, group_vars for every group and host_vars for one host in ten, in YAML and INI.
 * Run: npx vite-node bench/inventory-load.ts [N ...]   (default 1000 5000)
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../src/load/inventory.js';
import { selectHosts } from '../src/load/limit.js';

function makeInventory(dir: string, n: number): { yaml: string; ini: string } {
  mkdirSync(join(dir, 'group_vars'));
  mkdirSync(join(dir, 'host_vars'));
  const kinds = Array.from({ length: 20 }, (_, k) => `kind${k}`);
  let yaml = 'all:\n  children:\n    region_a:\n      children:\n';
  let ini = '';
  kinds.forEach((kind, k) => {
    if (k === 10) yaml += '    region_b:\n      children:\n';
    yaml += `        ${kind}:\n          hosts:\n`;
    ini += `[${kind}]\n`;
    for (let i = k; i < n; i += kinds.length) {
      yaml += `            hv${i}.example: {ansible_host: 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}}\n`;
      ini += `hv${i}.example ansible_host=10.${i >> 16}.${(i >> 8) & 255}.${i & 255}\n`;
      if (i % 10 === 0) writeFileSync(join(dir, 'host_vars', `hv${i}.example.yml`), `rack: r${i % 40}\n`);
    }
    writeFileSync(join(dir, 'group_vars', `${kind}.yml`), `passthrough_devices: ["10de:${k}"]\niommu_mode: pt\n`);
  });
  ini +=
    '[region_a:children]\n' +
    kinds.slice(0, 10).join('\n') +
    '\n[region_b:children]\n' +
    kinds.slice(10).join('\n') +
    '\n';
  writeFileSync(join(dir, 'hosts.yml'), yaml);
  writeFileSync(join(dir, 'hosts.ini'), ini);
  return { yaml: join(dir, 'hosts.yml'), ini: join(dir, 'hosts.ini') };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0);
for (const n of sizes.length > 0 ? sizes : [1000, 5000]) {
  const dir = mkdtempSync(join(tmpdir(), 'rg-bench-inv-'));
  try {
    const files = makeInventory(dir, n);
    for (const [format, file] of Object.entries(files)) {
      const times: number[] = [];
      for (let run = 0; run < 5; run++) {
        const t0 = performance.now();
        const inv = loadInventory(file);
        selectHosts(inv, 'region_a:!kind3');
        times.push(performance.now() - t0);
      }
      console.log(`${format} N=${n}: median ${median(times).toFixed(0)} ms over 5 loads (+ one --limit)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
