/**
 * The playbook keywords rollgate understands, at each level, as JSON Schema fragments. The published schema,
 * load-time validation and the did-you-mean suggestions all come from these tables.
 */
import { windowMappingProperties } from '../core/host-vars.js';
import { drainPolicySchema } from '../core/guest-policy.js';
import { serialStepSchema } from '../strategy/serial.js';
import { maxFailPercentageSchema } from '../strategy/threshold.js';

type Fragment = Record<string, unknown>;

const stringOrList: Fragment = {
  oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
};
const condition: Fragment = {
  description: 'expression without {{ }}, or a list of them that must all hold',
  oneOf: [
    { type: 'string', minLength: 1 },
    { type: 'boolean' },
    { type: 'array', items: { oneOf: [{ type: 'string', minLength: 1 }, { type: 'boolean' }] } },
  ],
};
// The forms are strategy/serial.ts's (the one reading of `serial`); it reports a bad value in detail.
const serialStep: Fragment = serialStepSchema;
const identifier = {
  type: 'string',
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  not: { const: '__proto__' },
  description: 'a variable name (letters, digits and _, not starting with a digit)',
} as const;
const varsObject: Fragment = {
  type: 'object',
  description: 'variables, templated when used',
  propertyNames: identifier,
};

/** Keywords valid on tasks, handlers and blocks alike. */
export const commonKeywords: Record<string, Fragment> = {
  name: { type: 'string' },
  when: condition,
  tags: { ...stringOrList, description: 'tags for --tags / --skip-tags; `always` and `never` are special' },
  become: { type: 'boolean' },
  ignore_errors: { type: 'boolean' },
  check_mode: { type: 'boolean', description: 'true: always only preview; false: run for real even under --check' },
  vars: varsObject,
  no_log: { type: 'boolean', description: 'keep args and results out of output, events and the journal' },
};

/** Keywords valid on a task or handler next to its module. */
export const taskKeywords: Record<string, Fragment> = {
  ...commonKeywords,
  register: identifier,
  notify: stringOrList,
  loop: {
    oneOf: [{ type: 'array' }, { type: 'string' }],
    description: 'a list, or an expression such as "{{ devices }}"',
  },
  loop_control: {
    type: 'object',
    additionalProperties: false,
    properties: { loop_var: identifier, label: { type: 'string' } },
  },
  changed_when: condition,
  failed_when: condition,
  timeout: {
    type: 'integer',
    minimum: 1,
    description: 'seconds each command of this task may run before it is killed (the task fails)',
  },
};

/** Only on handlers. */
export const handlerKeywords: Record<string, Fragment> = {
  ...taskKeywords,
  listen: stringOrList,
};

/** A block's own keywords (plus the common ones). */
export const blockKeywords: Record<string, Fragment> = {
  ...commonKeywords,
  block: { type: 'array' },
  rescue: { type: 'array' },
  always: { type: 'array' },
};

export const metaActions = ['flush_handlers', 'end_play', 'end_host', 'noop'] as const;

const pause: Fragment = {
  description: '`approve` (wait for an operator), a number of seconds, or false (no pause)',
  oneOf: [{ enum: ['approve', false] }, { type: 'integer', minimum: 0 }],
};

/** Names of the verification checks after a boot (the first word of each check). */
export const verificationCheckNames = [
  'kernel',
  'cmdline',
  'cmdline_present',
  'cmdline_absent',
  'iommu_active',
  'default_domain',
  'interrupt_remapping',
  'iommu_group',
  'driver',
  'vfio_in_initramfs',
  'dma_faults',
  'findings',
  'guest',
  'service',
  'boot_loader',
] as const;

/** `rollout:` on a play: what `rollgate rollout` does beyond Ansible's `serial` and `max_fail_percentage`. */
export const rolloutKeyword: Fragment = {
  type: 'object',
  additionalProperties: false,
  description: 'staged rollout settings, used by `rollgate rollout` (`rollgate run` ignores them)',
  properties: {
    canary: { enum: ['per_kind', 'none'], description: 'one canary per hardware kind first (default), or none' },
    canary_serial: { type: 'integer', minimum: 1, description: 'canaries changed at a time (default 1)' },
    pause_after_canaries: pause,
    pause_between_batches: pause,
    boot_timeout: {
      type: 'integer',
      minimum: 1,
      description: 'seconds to wait for a host to come back from a boot before a power reset (default 600)',
    },
    panic_timeout: {
      type: 'integer',
      minimum: 1,
      description:
        'panic=N on the trial boot: a panicking candidate reboots into the known-good entry after N seconds (default 10)',
    },
    prepare_boot: {
      type: 'boolean',
      description:
        'make a GRUB classic host trial-boot ready first (the boot_default module: GRUB_DEFAULT=saved, no GRUB_SAVEDEFAULT, a recordfail timeout) as a change of the run, undone on rollback (default false: such a host is refused); GRUB + BLS and systemd-boot hosts need nothing',
    },
    window: {
      type: 'object',
      additionalProperties: false,
      description:
        "the maintenance window a host's change must start in (Kured's meaning): days, start, end, timezone, on_outside (wait|stop), max_wait (seconds); the command line's --reboot-days ... replace it, a host's rollgate_window goes first",
      properties: windowMappingProperties,
    },
    guests: {
      ...drainPolicySchema,
      description:
        'refuse (the default: a host with running guests is not changed), shutdown (they start again after the verified boot or the rollback), or a mapping {movable: refuse|shutdown|migrate, with_devices: refuse|shutdown, shutdown_timeout, on_timeout: destroy|fail, return: true|false, no_peer: refuse|shutdown}',
    },
    verify: {
      type: 'object',
      additionalProperties: false,
      description: 'the verification after the trial boot',
      properties: {
        services: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description: 'services that must be active again when they were before (default ssh, libvirtd)',
        },
        wanted: {
          type: 'array',
          items: { enum: [...verificationCheckNames] },
          description: "checks reported but not required to pass (as greenboot's wanted checks)",
        },
      },
    },
  },
};

export const playKeywords: Record<string, Fragment> = {
  name: { type: 'string' },
  hosts: { ...stringOrList, description: 'host pattern, the same syntax as --limit' },
  vars: varsObject,
  become: { type: 'boolean' },
  gather_facts: {
    type: 'boolean',
    description:
      'take the health snapshot first and expose it as the variables `snapshot` and `findings` (default false)',
  },
  serial: {
    oneOf: [serialStep, { type: 'array', items: serialStep }],
    description: 'batch sizes: 1, "25%" or [1, 5, "20%"]',
  },
  max_fail_percentage: maxFailPercentageSchema,
  any_errors_fatal: { type: 'boolean' },
  no_log_vars: {
    type: 'array',
    items: identifier,
    uniqueItems: true,
    description:
      'variables whose values are secrets: scrubbed from output, events and the journal wherever they appear (names such as *_password, *_token, api_key already are)',
  },
  rollout: rolloutKeyword,
  tags: stringOrList,
  pre_tasks: { type: 'array' },
  tasks: { type: 'array' },
  post_tasks: { type: 'array' },
  handlers: { type: 'array' },
};

/** Ansible keywords we recognise but do not implement, with what to write instead. */
export const unsupportedKeywords: Record<string, string> = {
  with_items: 'write `loop:` instead',
  with_list: 'write `loop:` instead',
  with_dict: 'write `loop: "{{ mydict | dict2items }}"` instead',
  until: 'make the check a separate task',
  retries: 'make the check a separate task',
  delay: 'use `pause:` between tasks',
  delegate_to: 'rollgate runs every task on its own host',
  local_action: 'rollgate runs every task on its own host',
  run_once: 'limit the play with `hosts:` instead',
  become_user: 'set the user to become in the inventory (`ansible_become_user`, default root); remove `become_user`',
  become_method:
    'set the method in the inventory (`ansible_become_method: sudo` or `su`; the password with ansible_become_password or -K); remove `become_method`',
  remote_user: 'set the login user in the inventory (`ansible_user`)',
  connection: 'rollgate always connects over SSH; remove `connection`',
  environment: 'set variables inside the command',
  async: 'run the command in the foreground',
  poll: 'run the command in the foreground',
  roles: 'put the tasks in the play instead',
  include_tasks: 'put the tasks in the play instead',
  import_tasks: 'put the tasks in the play instead',
  include_role: 'put the tasks in the play instead',
  import_role: 'put the tasks in the play instead',
  import_playbook: 'run each playbook with its own `rollgate run`',
  strategy: 'rollgate runs plays with the linear strategy; staged rollouts use `serial`',
  args: 'write the module options under the module name',
  with_sequence: 'write `loop: "{{ range(1, 5) | list }}"` instead',
  loop_with: 'write `loop:` instead',
};
