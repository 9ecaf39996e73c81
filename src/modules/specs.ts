/**
 * The module catalogue as the playbook language sees it: names, descriptions and option schemas. The playbook
 * JSON Schema, validation messages and `--help` are generated from this object; implementations live in
 * src/modules/actions/ and are looked up by the same names.
 */
import type { ModuleSpec } from './module.js';

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;
const pciId = {
  type: 'string',
  pattern: '^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$',
  description: 'vendor:device, e.g. 10de:1e87',
} as const;

export const moduleSpecs = {
  kernel_args: {
    name: 'kernel_args',
    description:
      "Add or remove kernel command-line arguments through the host's own boot tooling (GRUB, grubby, systemd-boot, Proxmox).",
    changesHost: true,
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        present: {
          ...stringList,
          description: 'arguments that must be on the cmdline, e.g. ["intel_iommu=on", "iommu=pt"]',
        },
        absent: { ...stringList, description: 'arguments (name or name=value) that must not be on the cmdline' },
        bootloader: { enum: ['auto', 'grub', 'grubby', 'systemd-boot', 'proxmox'], default: 'auto' },
        force: {
          type: 'boolean',
          default: false,
          description: 'allow intel_iommu on an AMD host or amd_iommu on an Intel host',
        },
      },
      anyOf: [{ required: ['present'] }, { required: ['absent'] }],
    },
  },
  vfio_bind: {
    name: 'vfio_bind',
    description:
      'Bind PCI devices to vfio-pci persistently: modprobe.d options and softdeps, vfio modules in the initramfs list, optionally a runtime bind.',
    changesHost: true,
    options: {
      type: 'object',
      additionalProperties: false,
      required: ['ids'],
      properties: {
        ids: {
          type: 'array',
          items: pciId,
          minItems: 1,
          description: 'vendor:device ids of every function to bind (GPU and its audio function together)',
        },
        runtime: {
          type: 'boolean',
          default: false,
          description: 'also bind now through driver_override, without a reboot',
        },
        allow_group_members: {
          ...stringList,
          description: 'extra PCI addresses that may share the IOMMU group without being bound',
        },
      },
    },
  },
  driver_blacklist: {
    name: 'driver_blacklist',
    description: 'Keep host drivers off passthrough devices with a modprobe.d blacklist.',
    changesHost: true,
    options: {
      type: 'object',
      additionalProperties: false,
      required: ['drivers'],
      properties: {
        drivers: { ...stringList, description: 'kernel module names, e.g. ["nouveau", "nvidia"]' },
        state: { enum: ['present', 'absent'], default: 'present' },
        force: {
          type: 'boolean',
          default: false,
          description: 'allow blacklisting a driver that runs a storage or network device now',
        },
      },
    },
  },
  initramfs: {
    name: 'initramfs',
    description: 'Rebuild the initramfs (update-initramfs or dracut) and prove the required modules are inside it.',
    changesHost: true,
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        kernel: { type: 'string', default: 'current', description: "'current', 'all' or a kernel release" },
        require_modules: { ...stringList, default: ['vfio', 'vfio_iommu_type1', 'vfio_pci'] },
      },
    },
  },
  kernel_package: {
    name: 'kernel_package',
    description:
      'Make the host run a kernel release: install (and optionally hold) it with apt or dnf, or adopt the newest installed one; a target installed but not running becomes the default boot entry and asks for a reboot (a staged rollout boots it once first); installed and running is "nothing to change".',
    changesHost: true,
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        version: { type: 'string', description: 'kernel release or package version to install' },
        state: { enum: ['present', 'latest', 'adopt_newest'], default: 'present' },
        hold: { type: 'boolean', default: false },
      },
    },
  },
  reboot: {
    name: 'reboot',
    description: 'Reboot and wait until the host is back: boot_id changed and a full SSH login succeeded.',
    changesHost: true,
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        boot_timeout: {
          type: 'integer',
          minimum: 1,
          default: 600,
          description: 'seconds to wait for the host to come back',
        },
        reason: { type: 'string' },
      },
    },
  },
  snapshot: {
    name: 'snapshot',
    description: 'Gather the passthrough health snapshot (facts and findings) and register it.',
    changesHost: false,
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        profile: {
          type: 'boolean',
          default: false,
          description: 'also gather performance evidence (softirq, vhost placement, perf samples)',
        },
        dest: { type: 'string', description: 'directory on the controller to write HOST.json into' },
      },
    },
  },
  verify: {
    name: 'verify',
    description: 'Fail unless the host snapshot meets every stated condition.',
    changesHost: false,
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        iommu_enabled: { type: 'boolean' },
        default_domain: { enum: ['translated', 'passthrough', 'lazy'] },
        interrupt_remapping: { type: 'boolean' },
        kernel: { type: 'string', description: 'kernel release that must be running' },
        cmdline_present: stringList,
        cmdline_absent: stringList,
        drivers: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: 'vendor:device -> driver in use, e.g. {"10de:1e87": "vfio-pci"}',
        },
        vfio_in_initramfs: { type: 'boolean' },
        no_new_dma_faults: { type: 'boolean' },
        no_error_findings: { type: 'boolean' },
      },
    },
  },
  assert: {
    name: 'assert',
    description: 'Fail unless every expression in `that` is true.',
    changesHost: false,
    options: {
      type: 'object',
      additionalProperties: false,
      required: ['that'],
      properties: {
        that: { oneOf: [{ type: 'string' }, stringList] },
        fail_msg: { type: 'string' },
        success_msg: { type: 'string' },
      },
    },
  },
  command: {
    name: 'command',
    description: 'Run a command (argv, no shell). Not reversible unless `undo` is given.',
    changesHost: true,
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cmd: { type: 'string' },
        argv: stringList,
        creates: { type: 'string' },
        removes: { type: 'string' },
        undo: {
          type: 'string',
          description:
            'command that reverses this one, journaled before it runs; undo runs it only if this command succeeded',
        },
      },
      oneOf: [{ required: ['cmd'] }, { required: ['argv'] }],
    },
  },
  shell: {
    name: 'shell',
    description: 'Run a shell snippet. Not reversible unless `undo` is given.',
    changesHost: true,
    options: {
      type: 'object',
      additionalProperties: false,
      required: ['cmd'],
      properties: {
        cmd: { type: 'string' },
        creates: { type: 'string' },
        removes: { type: 'string' },
        undo: {
          type: 'string',
          description:
            'shell snippet that reverses this one, journaled before it runs; undo runs it only if this one succeeded',
        },
      },
    },
  },
  debug: {
    name: 'debug',
    description: 'Print a message or a variable.',
    changesHost: false,
    options: {
      type: 'object',
      additionalProperties: false,
      properties: { msg: {}, var: { type: 'string' } },
    },
  },
  set_fact: {
    name: 'set_fact',
    description: 'Set host variables for later tasks.',
    changesHost: false,
    options: { type: 'object', properties: {} },
  },
  fail: {
    name: 'fail',
    description: 'Fail the host with a message.',
    changesHost: false,
    options: { type: 'object', additionalProperties: false, properties: { msg: { type: 'string' } } },
  },
  pause: {
    name: 'pause',
    description: 'Wait a number of seconds, or for operator approval when `prompt` is given.',
    changesHost: false,
    options: {
      type: 'object',
      additionalProperties: false,
      properties: { seconds: { type: 'integer', minimum: 0 }, prompt: { type: 'string' } },
    },
  },
} as const satisfies Record<string, ModuleSpec>;

export type ModuleName = keyof typeof moduleSpecs;
export const moduleNames = Object.keys(moduleSpecs) as ModuleName[];
