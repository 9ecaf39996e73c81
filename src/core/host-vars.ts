/**
 * The host and group variables rollgate reads (`rollgate_*`), declared once: name, JSON Schema (with the hint a
 * message gives), the one-line doc, and, through SchemaType, the TypeScript type. The inventory schema's
 * variables are generated from this table (`npm run schemas`, targets/inventory-schema.ts), and load/ checks
 * every host's merged variables against it (host-var-check.ts), so a wrong value fails at load time with
 * file:line:col, whichever file (YAML, INI, group_vars, host_vars) set it.
 */
import type { SchemaType } from './schema-type.js';

/** The keys of a maintenance window mapping: `rollgate_window` here, a play's `rollout: window:` (playbook-keywords). */
export const windowMappingProperties = {
  days: { type: ['array', 'string'] },
  start: { type: 'string' },
  end: { type: 'string' },
  timezone: { type: 'string' },
  on_outside: { enum: ['wait', 'stop'] },
  max_wait: { type: ['integer', 'string'] },
};

const port = {
  type: ['integer', 'string'],
  minimum: 1,
  maximum: 65535,
  pattern: '^[0-9]{1,5}$',
  'x-hint': 'write a TCP port number from 1 to 65535, e.g. `ansible_port: 22`',
} as const;
/** Ansible's booleans (true/false, yes/no, on/off, 1/0; INI inventories give strings): targets/ reads them. */
const ansibleBoolean = {
  type: ['boolean', 'string', 'integer'],
  'x-hint': 'write true or false, without quotes',
} as const;
const path = { type: 'string', minLength: 1 } as const;

/**
 * Each variable: its schema and doc line. `checkedBy: 'targets'` marks connection variables that targets/
 * reads and reports with its own messages (under `rollgate check` / a run); every other one is checked at load.
 */
export const hostVarDeclarations = {
  rollgate_host: {
    doc: 'Address to connect to; wins over ansible_host.',
    checkedBy: 'targets',
    schema: {
      type: 'string',
      minLength: 1,
      'x-hint':
        'write the host name or IP address to connect to, e.g. `ansible_host: 10.0.0.11`, or remove the line to connect to the inventory name',
    },
  },
  rollgate_port: { doc: 'SSH port; wins over ansible_port.', checkedBy: 'targets', schema: port },
  rollgate_user: {
    doc: 'Login user; wins over ansible_user.',
    checkedBy: 'targets',
    schema: { ...path, 'x-hint': 'write the login user name, e.g. `ansible_user: ops`' },
  },
  rollgate_key_file: {
    doc: 'Private key file(s); win over ansible_ssh_private_key_file.',
    checkedBy: 'targets',
    schema: {
      type: ['string', 'array'],
      minLength: 1,
      items: path,
      'x-hint': 'write a private key path or a list of paths',
    },
  },
  rollgate_ssh_private_key_file: {
    doc: 'Private key file; another name of rollgate_key_file.',
    checkedBy: 'targets',
    schema: { ...path, 'x-hint': 'write the path of a private key file, e.g. `~/.ssh/id_ed25519`' },
  },
  rollgate_become: {
    doc: 'Run commands as the become user (through sudo, or su with ansible_become_method: su); wins over ansible_become.',
    checkedBy: 'targets',
    schema: { type: 'boolean', 'x-hint': 'write true or false, without quotes' },
  },
  rollgate_become_user: {
    doc: 'User to become (default root); wins over ansible_become_user.',
    checkedBy: 'targets',
    schema: { ...path, 'x-hint': 'write a user name, e.g. `rollgate_become_user: root`' },
  },
  rollgate_become_password: {
    doc: "The become password: sudo's, or the become user's for su (ideally !vault or a template over a vaulted variable); wins over ansible_become_password.",
    checkedBy: 'targets',
    schema: {
      type: ['string', 'number'],
      'x-hint': 'write sudo\'s password, e.g. `rollgate_become_password: !vault |` or `"{{ vault_sudo_password }}"`',
    },
  },
  rollgate_become_password_env: {
    doc: "Name of the controller's environment variable holding the become password (sudo's, or the become user's for su).",
    checkedBy: 'targets',
    schema: {
      type: 'string',
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      'x-hint': 'write the name of an environment variable, e.g. `rollgate_become_password_env: SUDO_PASSWORD`',
    },
  },
  rollgate_known_hosts_file: {
    doc: "known_hosts file to check this host's key against (default ~/.ssh/known_hosts).",
    checkedBy: 'targets',
    schema: { ...path, 'x-hint': 'write the path of a known_hosts file, e.g. `~/.ssh/known_hosts`' },
  },
  rollgate_proxy_jump: {
    doc: 'Bastion(s) to reach the host through, as ssh -J takes them (`user@bastion:22,other`).',
    checkedBy: 'targets',
    schema: { ...path, 'x-hint': 'write `user@bastion[:port]`, several separated by commas' },
  },
  rollgate_host_key_checking: {
    doc: "Check the host's key against known_hosts (default true).",
    checkedBy: 'targets',
    schema: ansibleBoolean,
  },
  rollgate_connect_timeout: {
    doc: 'Seconds to wait for the SSH connection (default 10).',
    checkedBy: 'targets',
    schema: { type: ['number', 'string'], 'x-hint': 'write a number of seconds, e.g. `rollgate_connect_timeout: 10`' },
  },
  rollgate_power: {
    doc: 'Out-of-band power control for recovery, e.g. `{driver: ipmi, host: 10.0.0.5, user: admin, password_env: IPMI_PASSWORD}`.',
    checkedBy: 'targets',
    // The drivers and their options are generated from the power registry (targets/inventory-schema.ts).
    schema: { type: 'object', required: ['driver'], properties: { driver: { type: 'string' } } },
  },
  rollgate_root: {
    doc: "Directory the modules treat as the host's / (default /): a test tree or a chroot.",
    schema: {
      type: 'string',
      pattern: '^/',
      'x-hint': 'write an absolute path, e.g. `rollgate_root: /srv/hv01-root`, or remove the line for /',
    },
  },
  rollgate_cluster: {
    doc: 'Cluster this host belongs to; at most rollgate_max_down of its hosts are down at a time.',
    schema: { type: 'string', minLength: 1, 'x-hint': 'e.g. `rollgate_cluster: rack7`' },
  },
  rollgate_max_down: {
    doc: 'Hosts of rollgate_cluster that may be down at once (default 1 when rollgate_cluster is set).',
    schema: {
      type: 'integer',
      minimum: 1,
      'x-hint': 'e.g. `rollgate_max_down: 1` (the default when rollgate_cluster is set)',
    },
  },
  rollgate_window: {
    doc: 'Maintenance window of this host (Kured-style): `{days: [mon, tue], start: "22:00", end: "04:00", timezone: Europe/Berlin, on_outside: wait, max_wait: 86400}`.',
    schema: {
      type: 'object',
      properties: windowMappingProperties,
      additionalProperties: false,
      'x-hint': 'e.g. `rollgate_window: {days: [sat, sun], start: "22:00", end: "04:00", timezone: Europe/Berlin}`',
    },
  },
  rollgate_reboot_command: {
    doc: 'Command that reboots the host when `systemctl reboot` does not (e.g. under rollgate_root).',
    schema: {
      type: 'string',
      minLength: 1,
      'x-hint': 'write the command as one string, e.g. `rollgate_reboot_command: reboot`',
    },
  },
  rollgate_reboot_poll_seconds: {
    doc: 'Seconds between login attempts while a rebooting host comes back (default 5).',
    schema: {
      type: 'number',
      exclusiveMinimum: 0,
      'x-hint': 'write a number of seconds, e.g. `rollgate_reboot_poll_seconds: 5`',
    },
  },
  rollgate_libvirt_uri: {
    doc: "libvirt URI the host's guests are read from (default virsh's own: `qemu:///system` as root).",
    schema: {
      type: 'string',
      minLength: 1,
      pattern: '^[a-z][a-z0-9+.-]*://',
      'x-hint': 'write a libvirt URI, e.g. `rollgate_libvirt_uri: qemu:///system`',
    },
  },
  rollgate_migrate_uri: {
    doc: "libvirt URI the other hosts of this host's cluster reach its libvirt by, for live migration (default `qemu+ssh://ADDRESS/system`).",
    schema: {
      type: 'string',
      minLength: 1,
      pattern: '^[a-z][a-z0-9+.-]*://',
      'x-hint': 'write a libvirt URI, e.g. `rollgate_migrate_uri: qemu+ssh://hv02.example.com/system`',
    },
  },
  rollgate_console_log: {
    doc: "Controller file holding the host's serial console output, read when it does not come back (the lab sets it).",
    schema: { ...path, 'x-hint': 'write the path of the console log on the controller' },
  },
} as const;

export type HostVarName = keyof typeof hostVarDeclarations;

/** The value types of the declared variables, all optional. */
export type HostVars = { -readonly [K in HostVarName]?: SchemaType<(typeof hostVarDeclarations)[K]['schema']> };
