/**
 * The running lab, on disk, so separate CLI invocations and test files share one set of VMs:
 *   <stateDir>/lab.json          this file's LabState
 *   <stateDir>/lab.lock          held while VMs are started, stopped or reset
 *   <stateDir>/known_hosts       exact host keys of every VM ([127.0.0.1]:port lines)
 *   <stateDir>/id_ed25519        operator key (copied from the image)
 *   <stateDir>/vms/<host>/       overlay.qcow2, qmp.sock, console.log, qemu.pid, ssh_host_ed25519_key[.pub],
 *                                OVMF_VARS.fd (UEFI VMs)
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Accel } from './qemu-args.js';
import type { IommuVendor, LabProfile } from './kinds.js';

export interface VmRecord {
  name: string;
  /** 0-based position in the lab (decides the kind in a mixed profile). */
  index: number;
  kind: string;
  iommu: IommuVendor;
  sshPort: number;
  mac: string;
  dir: string;
  disk: string;
  qmpSocket: string;
  consoleLog: string;
  pidFile: string;
  hostKey: string;
  /** `type base64` of the VM's SSH host key. */
  hostPublicKey: string;
  /**
   * The VM's own copy of OVMF's variable store (its EFI variables, kept across reboots: `bootctl set-oneshot`
   * needs them). Present when the VM boots through UEFI (the systemd-boot profile); absent: SeaBIOS and GRUB.
   */
  efiVars?: string;
  /** The private LAN NIC between lab VMs (`lab up --guests`): its MAC and the LAN's multicast group:port. */
  lan?: { mac: string; mcast: string };
}

export interface LabState {
  version: 1;
  profile: LabProfile;
  accel: Accel;
  imageHash: string;
  /** base.qcow2 the overlays are backed by. */
  imageBase: string;
  /** `lab up --guests`: the guests image, libvirt and two nested guests per VM, the private LAN. */
  guests?: boolean;
  hosts: Record<string, VmRecord>;
}

export interface LabPaths {
  stateDir: string;
  stateFile: string;
  lockFile: string;
  knownHosts: string;
  operatorKey: string;
  vmsDir: string;
}

export function labPaths(stateDir: string): LabPaths {
  return {
    stateDir,
    stateFile: join(stateDir, 'lab.json'),
    lockFile: join(stateDir, 'lab.lock'),
    knownHosts: join(stateDir, 'known_hosts'),
    operatorKey: join(stateDir, 'id_ed25519'),
    vmsDir: join(stateDir, 'vms'),
  };
}

export function readLabState(paths: LabPaths): LabState | undefined {
  if (!existsSync(paths.stateFile)) return undefined;
  const state = JSON.parse(readFileSync(paths.stateFile, 'utf8')) as LabState;
  if (state.version !== 1) throw new Error(`${paths.stateFile}: unknown lab state version ${String(state.version)}; run \`rollgate lab down\``);
  return state;
}

export function writeLabState(paths: LabPaths, state: LabState): void {
  mkdirSync(paths.stateDir, { recursive: true });
  const tmp = `${paths.stateFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, paths.stateFile);
}

/** Host names in lab order. */
export function hostNames(state: LabState): string[] {
  return Object.values(state.hosts).sort((a, b) => a.index - b.index).map((h) => h.name);
}

/** Lab host names: lab1, lab2, ... */
export function labHostName(index: number): string {
  return `lab${index + 1}`;
}
