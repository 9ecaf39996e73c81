import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { ConfigError } from '../../src/core/config-error.js';
import { parsePlaybook } from '../../src/load/playbook.js';
import { loadInventory } from '../../src/load/inventory.js';
import { planRun } from '../../src/plan/plan.js';

// One bad input per file under test/fixtures/bad-playbooks/, with the exact report an operator sees
// (file:line:col, what is wrong, what to write instead). Every fixture must be listed here. A fixture whose first
// line is `# inventory: NAME` is planned against inventories/NAME, as `rollgate run` does before any connection.
const dir = new URL('../fixtures/bad-playbooks/', import.meta.url);
const cases: Array<[string, string]> = [
  ['01-unknown-play-key.yml', '01-unknown-play-key.yml:2:3: unknown key `hots` in a play. did you mean `hosts`?'],
  [
    '02-unknown-module-option.yml',
    '02-unknown-module-option.yml:5:9: module `kernel_args` needs `present` or `absent`. add one of `present` / `absent`\n02-unknown-module-option.yml:5:9: module `kernel_args` has no option `add`; it takes `present` / `absent` / `bootloader` / `force`',
  ],
  ['03-misspelt-module.yml', '03-misspelt-module.yml:4:7: unknown module `kernel_arg`. did you mean `kernel_args`?'],
  [
    '04-unknown-module.yml',
    '04-unknown-module.yml:4:7: unknown module `apt_repository`. use one of `kernel_args` / `vfio_bind` / `driver_blacklist` / `boot_default` / `initramfs` / `kernel_package` / `reboot` / `snapshot` / `verify` / `assert` / `command` / `shell` / `debug` / `set_fact` / `fail` / `pause`',
  ],
  [
    '05-two-modules.yml',
    '05-two-modules.yml:5:7: a task runs exactly one module; this one names `debug` and `command`. split it into one task per module',
  ],
  [
    '06-missing-required-option.yml',
    '06-missing-required-option.yml:5:9: module `vfio_bind` needs option `ids`. add `ids:` — vendor:device ids of every function to bind (GPU and its audio function together)',
  ],
  ['07-wrong-type.yml', '07-wrong-type.yml:4:23: `boot_timeout` must be a whole number, not the string `soon`'],
  [
    '08-bad-when-syntax.yml',
    '08-bad-when-syntax.yml:4:13: bad `when` expression `ansible_facts.cpu_vendor ==`: it ends too early. write a Jinja expression such as `x == "a" and y | length > 0`',
  ],
  [
    '09-when-with-braces.yml',
    '09-when-with-braces.yml:4:14: `when` takes a bare expression, not a template. write `when: do_it` without {{ }}',
  ],
  [
    '10-undefined-handler.yml',
    '10-undefined-handler.yml:4:15: no handler named `rebuild initrd` in this play. handlers of this play: `rebuild initramfs`',
  ],
  [
    '11-bad-serial.yml',
    '11-bad-serial.yml:2:11: `serial` must be a host count such as 2 or a whole percentage such as "25%", not the string `fast`',
  ],
  [
    '12-serial-zero-percent.yml',
    '12-serial-zero-percent.yml:2:16: `serial` "0%" must be from 1% to 100%. write a host count such as 2, a percentage such as "25%" or a list such as [1, "25%"]',
  ],
  [
    '13-tab-indentation.yml',
    '13-tab-indentation.yml:3:1: YAML syntax error: tab characters must not be used in indentation. indent with spaces, not tabs',
  ],
  [
    '14-unclosed-quote.yml',
    '14-unclosed-quote.yml:4:1: YAML syntax error: deficient indentation. align this line with its siblings (same number of leading spaces)',
  ],
  [
    '15-duplicate-key.yml',
    '15-duplicate-key.yml:2:3: YAML syntax error: duplicated mapping key. each key may appear once per mapping; remove or rename the repeated key',
  ],
  [
    '16-mapping-not-list.yml',
    '16-mapping-not-list.yml:1:1: a playbook is a list of plays, but this file is a mapping. start each play with `- name: ...` and `  hosts: ...`',
  ],
  [
    '17-empty-file.yml',
    '17-empty-file.yml:1:1: a playbook is a list of plays, but this file is empty. start each play with `- name: ...` and `  hosts: ...`',
  ],
  ['18-no-hosts.yml', '18-no-hosts.yml:1:3: this play has no `hosts`. add `hosts: all` or a group or host pattern'],
  ['19-no-tasks.yml', '19-no-tasks.yml:1:3: this play has no `tasks`. add `tasks:` with a list of tasks'],
  [
    '20-task-without-module.yml',
    '20-task-without-module.yml:3:7: this task has no module. add one of `kernel_args` / `vfio_bind` / `driver_blacklist` / `boot_default` / `initramfs` / `kernel_package` / `reboot` / `snapshot` / `verify` / `assert` / `command` / `shell` / `debug` / `set_fact` / `fail` / `pause`',
  ],
  [
    '21-enum-value.yml',
    '21-enum-value.yml:5:21: `bootloader` must be one of `auto` / `grub` / `grubby` / `systemd-boot` / `proxmox`, not the string `grub2`. did you mean `grub`?',
  ],
  [
    '22-bad-pci-id.yml',
    '22-bad-pci-id.yml:4:27: `ids[1]` must be vendor:device, e.g. 10de:1e87, not the string `10de-10f8`',
  ],
  [
    '23-command-cmd-and-argv.yml',
    '23-command-cmd-and-argv.yml:4:9: module `command` takes only one of `cmd` / `argv`. remove all but one',
  ],
  [
    '24-fqcn-module.yml',
    '24-fqcn-module.yml:3:7: write the module name `debug` without its collection. replace `ansible.builtin.debug` with `debug`',
  ],
  [
    '25-key-value-args.yml',
    '25-key-value-args.yml:3:14: the options of module `debug` must be a mapping, not the string `msg=hello`. write `debug:` and its options indented below it, e.g. `msg: ...`',
  ],
  ['26-with-items.yml', '26-with-items.yml:4:7: `with_items` is not supported in a task. write `loop:` instead'],
  [
    '27-delegate-to.yml',
    '27-delegate-to.yml:4:7: `delegate_to` is not supported in a task. rollgate runs every task on its own host',
  ],
  [
    '28-unknown-meta.yml',
    '28-unknown-meta.yml:3:13: unknown meta action `flush_handler`. did you mean `flush_handlers`?',
  ],
  [
    '29-misspelt-task-keyword.yml',
    '29-misspelt-task-keyword.yml:4:7: unknown key `regsiter` in a task. did you mean `register`?',
  ],
  ['30-unknown-filter.yml', '30-unknown-filter.yml:4:15: unknown filter `regex_replce`. did you mean `regex_replace`?'],
  ['31-unknown-test.yml', '31-unknown-test.yml:4:13: unknown test `verison`. did you mean `version`?'],
  [
    '32-bad-template.yml',
    '32-bad-template.yml:3:12: bad template `{{ vendor }_iommu=on`: expected variable end. close every `{{` with `}}` and check the expression inside',
  ],
  [
    '33-rescue-without-block.yml',
    '33-rescue-without-block.yml:4:7: `rescue` needs a `block` in the same mapping. put the tasks that may fail under `block:`',
  ],
  [
    '34-block-with-module.yml',
    '34-block-with-module.yml:5:7: a block cannot also run a module (`command`). move it into a task inside `block:`',
  ],
  [
    '35-listen-on-task.yml',
    '35-listen-on-task.yml:4:7: `listen` belongs on handlers, not tasks. move this task under `handlers:`, or notify the handler by name',
  ],
  [
    '36-loop-bare-string.yml',
    '36-loop-bare-string.yml:4:13: `loop` must be a list or an expression. write `loop: "{{ devices }}"` or a YAML list',
  ],
  [
    '37-bad-register-name.yml',
    '37-bad-register-name.yml:4:17: `register` must be a variable name (letters, digits and _, not starting with a digit), not the string `cmd-line`',
  ],
  [
    '38-bad-var-name.yml',
    '38-bad-var-name.yml:3:5: `iommu-mode` is not a valid name in `vars`. use a variable name (letters, digits and _, not starting with a digit)',
  ],
  [
    '39-proto-var-name.yml',
    '39-proto-var-name.yml:3:5: `__proto__` is not a valid name in `vars`. use a variable name (letters, digits and _, not starting with a digit)',
  ],
  [
    '40-yes-is-a-boolean.yml',
    '40-yes-is-a-boolean.yml:4:14: `msg` must be a string, not `true`. quote it if you mean the text: YAML reads yes/no/on/off/y/n as true/false',
  ],
  [
    '41-alias-bomb.yml',
    '41-alias-bomb.yml:1:1: this playbook expands to more than 200000 values (YAML aliases that repeat aliases?). write the values out, or use fewer nested aliases',
  ],
  [
    '42-expression-injection.yml',
    '42-expression-injection.yml:4:14: `when` takes a bare expression, not a template. write one expression without {{ }} or {% %}, e.g. `when: x == "a"`',
  ],
  [
    '43-two-documents.yml',
    '43-two-documents.yml:1:1: more than one YAML document (---) in one file. keep one document per file',
  ],
  [
    '44-play-is-a-string.yml',
    '44-play-is-a-string.yml:4:3: a play must be a mapping. write `- hosts: ...` with `tasks:` below it',
  ],
  [
    '45-task-is-a-string.yml',
    '45-task-is-a-string.yml:3:7: a task must be a mapping, not `reboot`. write `- name: ...` and the module with its options below it',
  ],
  [
    '46-options-are-a-list.yml',
    '46-options-are-a-list.yml:4:9: the options of module `kernel_args` must be a mapping, not a list. write `kernel_args:` and its options indented below it, e.g. `present: ...`',
  ],
  ['47-empty-hosts.yml', '47-empty-hosts.yml:1:11: `hosts` is empty. write `hosts: all` or a group or host pattern'],
  [
    '48-max-fail-percentage.yml',
    '48-max-fail-percentage.yml:2:24: `max_fail_percentage` 150 is not a percentage from 0 to 100. write e.g. `max_fail_percentage: 20` (stop when more than 20% of a batch failed)',
  ],
  [
    '49-kernel-args-nothing.yml',
    '49-kernel-args-nothing.yml:4:9: module `kernel_args` needs `present` or `absent`. add one of `present` / `absent`',
  ],
  ['50-empty-pci-list.yml', '50-empty-pci-list.yml:4:14: `ids` needs at least 1 item'],
  ['51-roles.yml', '51-roles.yml:2:3: `roles` is not supported in a play. put the tasks in the play instead'],
  ['52-homoglyph-key.yml', '52-homoglyph-key.yml:1:3: unknown key `hоsts` in a play. did you mean `hosts`?'],
  [
    '53-when-statement.yml',
    '53-when-statement.yml:4:14: `when` takes a bare expression, not a template. write one expression without {{ }} or {% %}, e.g. `when: x == "a"`',
  ],
  ['54-tags-mapping.yml', '54-tags-mapping.yml:4:13: `tags` must be a string or a list, not a mapping'],
  [
    '55-handler-block.yml',
    '55-handler-block.yml:4:25: no handler named `reload` in this play. handlers of this play: `restart`',
  ],
  [
    '56-quoted-template-in-shell.yml',
    '56-quoted-template-in-shell.yml:3:20: `{{ message }}` is inside quotes in a `shell` line. remove the quotes around `{{ message }}`: rollgate quotes every templated value itself',
  ],
  [
    '57-statement-in-command.yml',
    '57-statement-in-command.yml:4:15: `{% %}` is not allowed in a `command` line. compute the value under `vars:` and use `{{ name }}` in the command',
  ],
  [
    '58-hosts-unknown-group.yml',
    '58-hosts-unknown-group.yml:2:10: no host or group matches `hypervisor`. did you mean `hypervisors`?',
  ],
  [
    '59-hosts-empty-group.yml',
    '59-hosts-empty-group.yml:2:10: `hosts: spare` matches no host in the inventory. add hosts to that group, or name a group that has some (`rollgate inventory -i INV --graph`)',
  ],
  [
    '60-hosts-dangling-exclusion.yml',
    '60-hosts-dangling-exclusion.yml:2:24: `!` must be followed by a group or host. write e.g. `!web`',
  ],
  [
    '61-second-play-unknown-host.yml',
    '61-second-play-unknown-host.yml:5:10: no host or group matches `hv03`. did you mean `hv01`?',
  ],
  ['62-inventory-typo.yml', 'inventories/typo.yml:2:3: unknown key `childen` under `all`. did you mean `children`?'],
  [
    '63-inventory-bad-port.yml',
    'inventories/bad-port.yml:4:21: `ansible_port` must be an integer or a string, not a list. write a TCP port number from 1 to 65535, e.g. `ansible_port: 22`',
  ],
  [
    '64-rollout-unknown-key.yml',
    '64-rollout-unknown-key.yml:3:5: `rollout` has no option `canaries`; it takes `canary` / `canary_serial` / `pause_after_canaries` / `pause_between_batches` / `boot_timeout` / `panic_timeout` / `prepare_boot` / `window` / `guests` / `verify`. did you mean `canary`?',
  ],
  [
    '65-rollout-bad-pause.yml',
    '65-rollout-bad-pause.yml:3:27: `rollout.pause_after_canaries` must be `approve` (wait for an operator), a number of seconds, or false (no pause), not the string `later`',
  ],
  [
    '66-rollout-unknown-check.yml',
    '66-rollout-unknown-check.yml:5:16: `rollout.verify.wanted[0]` must be one of `kernel` / `cmdline` / `cmdline_present` / `cmdline_absent` / `iommu_active` / `default_domain` / `interrupt_remapping` / `iommu_group` / `driver` / `vfio_in_initramfs` / `dma_faults` / `findings` / `guest` / `service` / `boot_loader`, not the string `dma_fault`. did you mean `dma_faults`?',
  ],
  [
    '67-rollout-not-a-mapping.yml',
    '67-rollout-not-a-mapping.yml:2:12: `rollout` must be a mapping, not the string `approve`',
  ],
  [
    '68-template-in-heredoc.yml',
    "68-template-in-heredoc.yml:6:30: `{{ vfio_ids }}` is in a heredoc body in a `shell` line, where quotes are plain text: the value could run commands or end the heredoc. set a variable before the heredoc (`v={{ vfio_ids }}`) and write `$v` in the body, or write the text with `printf '%s\\n' {{ vfio_ids }} > FILE`",
  ],
  [
    '69-template-in-comment.yml',
    '69-template-in-comment.yml:4:23: `{{ target_kernel }}` is in a # comment in a `shell` line: a newline in the value would end the comment and run the rest. remove `{{ target_kernel }}` from the comment',
  ],
  [
    '70-template-in-arithmetic.yml',
    '70-template-in-arithmetic.yml:3:23: `{{ hugepages }}` is inside shell arithmetic in a `shell` line: bash evaluates the value as an expression, and `a[$(cmd)]` in it runs cmd. make it a number: `{{ hugepages | int }}`',
  ],
  [
    '71-template-in-double-brackets.yml',
    '71-template-in-double-brackets.yml:3:31: `{{ min_cpus }}` is inside [[ ]] in a `shell` line: bash evaluates operands of -eq, -lt \u2026 and -v as arithmetic, which can run commands. use [ ] instead of [[ ]], or `{{ min_cpus | int }}` for a number',
  ],
  [
    '72-template-in-ansi-c-string.yml',
    "72-template-in-ansi-c-string.yml:3:30: `{{ note }}` is inside a $'\u2026' string in a `shell` line. move `{{ note }}` out of the $'\u2026' string: rollgate quotes every templated value itself as one word",
  ],
  [
    '73-template-in-let.yml',
    '73-template-in-let.yml:3:24: `{{ hugepages }}` is an argument of `let` in a `shell` line: bash evaluates it as arithmetic, and `a[$(cmd)]` in it runs cmd. make it a number: `{{ hugepages | int }}`',
  ],
  [
    '74-template-in-backquotes.yml',
    '74-template-in-backquotes.yml:3:36: `{{ suffix }}` is inside backquotes in a `shell` line: a backquote in the value would end them. write $( \u2026 ) instead of backquotes',
  ],
  [
    '75-template-in-parameter-expansion.yml',
    '75-template-in-parameter-expansion.yml:3:35: `{{ timeout }}` is inside ${ } in a `shell` line, whose text the shell reads again (offsets are arithmetic, patterns are globs). set a variable first (`v={{ timeout }}`) and write `"${NAME:-$v}"`, or `{{ timeout | int }}` for an offset or length',
  ],
  [
    '76-template-in-eval.yml',
    '76-template-in-eval.yml:3:21: `{{ check_command }}` is an argument of `eval` in a `command` line, which runs it as shell code. write `{{ check_command | quote }}` so that shell reads it as one word, or run the command directly with `{{ check_command }}` as one of its words',
  ],
  [
    '77-template-in-sh-c.yml',
    '77-template-in-sh-c.yml:4:28: `{{ script }}` is in the script of `sh -c` in a `shell` line, which a second shell reads as code. pass it as an argument of the script instead: `sh -c \'\u2026 "$1"\' sh {{ script }}`\n77-template-in-sh-c.yml:5:22: `{{ undo_script }}` is in the script of `sh -c` in a `shell` line, which a second shell reads as code. pass it as an argument of the script instead: `sh -c \'\u2026 "$1"\' sh {{ undo_script }}`',
  ],
  [
    '78-template-in-ssh-command.yml',
    '78-template-in-ssh-command.yml:3:50: `{{ path }}` is in the remote command of `ssh` in a `shell` line: ssh joins its words into one line that the remote shell reads again. write `{{ path | quote }}` to quote it once more for the remote shell',
  ],
  [
    '79-template-in-variable-name.yml',
    '79-template-in-variable-name.yml:3:22: `{{ var_name }}` is a variable name (or array value) of `read` in a `shell` line: bash evaluates array subscripts there, which can run commands. write the variable name literally and template only its value (`name={{ var_name }}`)',
  ],
  [
    '80-template-reaches-constructor.yml',
    '80-template-reaches-constructor.yml:4:15: templates cannot read `constructor`. rollgate templates read data (keys of mappings, items of lists), not JavaScript objects',
  ],
  [
    '81-rollout-window-unknown-key.yml',
    '81-rollout-window-unknown-key.yml:5:7: `rollout.window` has no option `begin`; it takes `days` / `start` / `end` / `timezone` / `on_outside` / `max_wait`',
  ],
  [
    '82-reboot-guests-migrate.yml',
    '82-reboot-guests-migrate.yml:5:17: `guests` must be refuse (the default: running guests stop the reboot), shutdown, or a mapping {movable: refuse|shutdown|migrate, with_devices: refuse|shutdown, shutdown_timeout, on_timeout: destroy|fail, return: true|false, no_peer: refuse|shutdown (a movable guest to migrate with no peer to take it)}, not the string `migrate`',
  ],
  [
    '83-rollout-guests-no-peer.yml',
    '83-rollout-guests-no-peer.yml:3:42: `rollout.guests.no_peer` must be one of `refuse` / `shutdown`, not the string `migrate`',
  ],
  [
    '84-rollout-guests-misspelt-action.yml',
    '84-rollout-guests-misspelt-action.yml:3:24: `rollout.guests.movable` must be one of `refuse` / `shutdown` / `migrate`, not the string `migrat`. did you mean `migrate`?',
  ],
  [
    '85-rollout-guests-misspelt-key.yml',
    '85-rollout-guests-misspelt-key.yml:5:7: `rollout.guests` has no option `with_device`; it takes `movable` / `with_devices` / `shutdown_timeout` / `on_timeout` / `return` / `no_peer`. did you mean `with_devices`?',
  ],
  [
    '86-rollout-guests-unknown-word.yml',
    '86-rollout-guests-unknown-word.yml:3:13: `rollout.guests` must be refuse (the default: a host with running guests is not changed), shutdown (they start again after the verified boot or the rollback), or a mapping {movable: refuse|shutdown|migrate, with_devices: refuse|shutdown, shutdown_timeout, on_timeout: destroy|fail, return: true|false, no_peer: refuse|shutdown}, not the string `drain`',
  ],
];

describe('bad playbooks', () => {
  it('lists every fixture file exactly once', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.yml'))
      .sort();
    expect(cases.map(([f]) => f).sort()).toEqual(files);
  });

  it.each(cases)('%s is refused with its exact message', (file, expected) => {
    const text = readFileSync(new URL(file, dir), 'utf8');
    const inventory = /^# inventory: (\S+)/.exec(text)?.[1];
    let error: unknown;
    try {
      const book = parsePlaybook(text, file);
      if (inventory) planRun(loadInventory(new URL(`inventories/${inventory}`, dir).pathname), book);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.replaceAll(new URL('.', dir).pathname, '')).toBe(expected);
  });
});
