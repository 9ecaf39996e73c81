/**
 * `rollgate inventory`: show an inventory as rollgate reads it, in the formats of `ansible-inventory`
 * (`--list` prints exactly the JSON ansible-inventory prints for the same files).
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/config-error.js';
import { loadInventory } from '../../load/inventory.js';
import { selectHosts } from '../../load/limit.js';
import { ansibleJson, inventoryGraph, inventoryList, printableHostVars } from '../../render/inventory-list.js';
import type { SetExitCode } from './index.js';
import { collect } from '../options.js';

interface InventoryOptions {
  inventory: string[];
  list?: boolean;
  host?: string;
  graph?: boolean | string;
  limit?: string;
}

export function registerInventory(program: Command, setExitCode: SetExitCode): void {
  program
    .command('inventory')
    .description('Show the inventory as rollgate (and Ansible) reads it: --list, --host NAME or --graph')
    .requiredOption('-i, --inventory <source>', 'inventory file, directory or host list (repeatable)', collect)
    .option(
      '--list',
      'print every group and host with merged variables, as `ansible-inventory --list` (an inline !vault value as its vault data, with a vault password or without)',
    )
    .option('--host <name>', "print one host's merged variables")
    .option('--graph [group]', 'print the group tree (from GROUP, default all)')
    .option(
      '-l, --limit <pattern>',
      'with --list: only these hosts in _meta.hostvars (an Ansible pattern, checked for typos)',
    )
    .action((opts: InventoryOptions) => {
      const modes = [opts.list, opts.host !== undefined, opts.graph !== undefined].filter(Boolean).length;
      if (modes !== 1) {
        throw new ConfigError([
          {
            message: 'give exactly one of --list, --host NAME or --graph',
            hint: 'e.g. `rollgate inventory -i hosts.yml --list`',
          },
        ]);
      }
      const inv = loadInventory(opts.inventory);
      if (opts.limit !== undefined) {
        const keep = new Set(selectHosts(inv, opts.limit));
        for (const name of [...inv.hosts.keys()]) if (!keep.has(name)) inv.hosts.delete(name);
      }
      if (opts.list) process.stdout.write(ansibleJson(inventoryList(inv)));
      else if (opts.host !== undefined) {
        if (!inv.hosts.has(opts.host))
          throw new ConfigError([
            { message: `no host \`${opts.host}\` in the inventory`, hint: 'see the hosts with --list or --graph' },
          ]);
        process.stdout.write(ansibleJson(printableHostVars(inv, opts.host)));
      } else {
        const root = typeof opts.graph === 'string' ? opts.graph : 'all';
        if (!inv.groups.has(root))
          throw new ConfigError([
            { message: `no group \`${root}\` in the inventory`, hint: '--graph takes a group name' },
          ]);
        process.stdout.write(inventoryGraph(inv, root).join('\n') + '\n');
      }
      setExitCode(0);
    });
}
