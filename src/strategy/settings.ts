/**
 * Rollout settings as a play writes them. Ansible's own play keywords `serial` and `max_fail_percentage`, plus a
 * `rollout:` mapping for what Ansible has no word for:
 *
 *   serial: [1, "25%"]
 *   max_fail_percentage: 20
 *   rollout:
 *     canary: per_kind            # or none
 *     canary_serial: 1            # canaries at a time
 *     pause_after_canaries: approve   # or a number of seconds, or false
 *     pause_between_batches: 30
 *     boot_timeout: 600           # seconds to wait for a trial boot
 *     panic_timeout: 10           # panic=N on the trial boot
 *     prepare_boot: true          # make GRUB trial-boot ready first (boot_default), undone with the rest
 *     window: {days: [mon, tue], start: "22:00", end: "04:00", timezone: Europe/Berlin}   # changes start inside
 *     guests: shutdown            # or refuse (default), or {movable, with_devices, shutdown_timeout, on_timeout}
 *     verify:
 *       services: [ssh, libvirtd] # must be active again when they were before the change
 *       wanted: [dma_faults]      # reported, not required (greenboot's wanted checks)
 *
 * Validation is pure and returns every problem with the path it is at, so the loader can add file:line:col.
 */
import { parseSerial, type SerialStep } from './serial.js';
import { parseMaxFailPercentage } from './threshold.js';
import { windowFromMapping, type MaintenanceWindow } from './window.js';
import { drainPolicyFrom, type DrainPolicy } from '../core/guest-policy.js';

export type Pause = { kind: 'approval' } | { kind: 'seconds'; seconds: number };

export interface RolloutSettings {
  /** Absent: the hosts after the canaries in one batch. */
  serial?: SerialStep[];
  /** 0-100; absent: stop only when a whole batch failed (Ansible). */
  maxFailPercentage?: number;
  /** Default 'per_kind'. */
  canary: 'per_kind' | 'none';
  /** Canaries changed at a time. Default 1. */
  canarySerial: number;
  pauseAfterCanaries?: Pause;
  pauseBetweenBatches?: Pause;
  /** Seconds to wait for a host to come back from its trial boot. Default 600. */
  bootTimeoutSec: number;
  /** panic=N on the trial boot, in seconds. Default 10. */
  panicTimeoutSec: number;
  /**
   * Before the preflight, make GRUB trial-boot ready (the boot_default module: GRUB_DEFAULT=saved ...) as a
   * journaled change of the run; a rollback undoes it last, once the host is back on its known-good entry.
   * Default false: a host that is not ready is refused, never changed silently.
   */
  prepareBoot: boolean;
  /** Services that must be active after the boot when they were before. Default ssh, libvirtd. */
  verifyServices: string[];
  /** Verification checks (by first word) reported but not required. Default none. */
  verifyWanted: string[];
  /**
   * The maintenance window a host's change must start in (`rollout: window:`); the command line's window
   * (--reboot-days ...) replaces it and a host's own `rollgate_window` goes first. Absent: none.
   */
  window?: MaintenanceWindow;
  /**
   * What happens to running guests before the trial boot (`rollout: guests:`): shut down and started again after
   * the verified boot or the rollback, or refused (the host is not changed). Default: refuse every running guest.
   */
  guests: DrainPolicy;
}

export const defaultRolloutSettings: RolloutSettings = {
  canary: 'per_kind',
  canarySerial: 1,
  bootTimeoutSec: 600,
  panicTimeoutSec: 10,
  prepareBoot: false,
  verifyServices: ['ssh', 'libvirtd'],
  verifyWanted: [],
  guests: drainPolicyFrom(undefined),
};

export interface SettingsProblem {
  path: Array<string | number>;
  message: string;
  hint?: string;
}

const ROLLOUT_KEYS = [
  'canary',
  'canary_serial',
  'pause_after_canaries',
  'pause_between_batches',
  'boot_timeout',
  'panic_timeout',
  'prepare_boot',
  'verify',
  'window',
  'guests',
];
const VERIFY_KEYS = ['services', 'wanted'];

const stringsOf = (v: unknown): string[] | null =>
  Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '') ? (v as string[]) : null;

function parseVerify(v: unknown, settings: RolloutSettings, problems: SettingsProblem[]): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'object' || Array.isArray(v)) {
    problems.push({
      path: ['rollout', 'verify'],
      message: 'verify must be a mapping',
      hint: 'e.g. `verify: {services: [ssh, libvirtd], wanted: [dma_faults]}`',
    });
    return;
  }
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (!VERIFY_KEYS.includes(key))
      problems.push({
        path: ['rollout', 'verify', key],
        message: `unknown verify setting \`${key}\``,
        hint: `known settings: ${VERIFY_KEYS.join(', ')}`,
      });
  for (const [key, field] of [
    ['services', 'verifyServices'],
    ['wanted', 'verifyWanted'],
  ] as const) {
    if (o[key] === undefined) continue;
    const list = stringsOf(o[key]);
    if (list) settings[field] = list;
    else
      problems.push({
        path: ['rollout', 'verify', key],
        message: `${key} must be a list of names`,
        hint: `e.g. \`${key}: [${key === 'services' ? 'ssh, libvirtd' : 'dma_faults'}]\``,
      });
  }
}

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function parsePause(v: unknown, path: Array<string | number>, problems: SettingsProblem[]): Pause | undefined {
  if (v === undefined || v === false || v === null) return undefined;
  if (v === 'approve' || v === 'approval') return { kind: 'approval' };
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0)
    return v === 0 ? undefined : { kind: 'seconds', seconds: v };
  problems.push({
    path,
    message: `${JSON.stringify(v)} is not a pause`,
    hint: 'write `approve`, a number of seconds, or false',
  });
  return undefined;
}

/** Read the rollout settings of one play (its raw mapping). */
export function parseRolloutSettings(play: Record<string, unknown>): {
  settings: RolloutSettings;
  problems: SettingsProblem[];
} {
  const problems: SettingsProblem[] = [];
  const settings: RolloutSettings = {
    ...defaultRolloutSettings,
    verifyServices: [...defaultRolloutSettings.verifyServices],
    verifyWanted: [],
  };
  if (play.serial !== undefined) {
    const { steps, problems: bad } = parseSerial(play.serial);
    for (const p of bad) problems.push({ path: ['serial', ...p.path], message: p.message, hint: p.hint });
    if (bad.length === 0) settings.serial = steps;
  }
  if (play.max_fail_percentage !== undefined) {
    const mfp = parseMaxFailPercentage(play.max_fail_percentage);
    if ('value' in mfp) settings.maxFailPercentage = mfp.value;
    else problems.push({ path: ['max_fail_percentage'], message: mfp.problem, hint: mfp.hint });
  }
  const r = play.rollout;
  if (r === undefined || r === null) return { settings, problems };
  if (typeof r !== 'object' || Array.isArray(r)) {
    problems.push({
      path: ['rollout'],
      message: 'rollout must be a mapping',
      hint: 'e.g. `rollout: {canary: per_kind, pause_after_canaries: approve}`',
    });
    return { settings, problems };
  }
  const ro = r as Record<string, unknown>;
  for (const key of Object.keys(ro)) {
    if (!ROLLOUT_KEYS.includes(key))
      problems.push({
        path: ['rollout', key],
        message: `unknown rollout setting \`${key}\``,
        hint: `known settings: ${ROLLOUT_KEYS.join(', ')}`,
      });
  }
  if (ro.canary !== undefined) {
    if (ro.canary === 'per_kind' || ro.canary === 'none') settings.canary = ro.canary;
    else if (ro.canary === false) settings.canary = 'none';
    else
      problems.push({
        path: ['rollout', 'canary'],
        message: `canary ${JSON.stringify(ro.canary)} is not a canary policy`,
        hint: 'write `per_kind` or `none`',
      });
  }
  const ints: Array<[string, 'canarySerial' | 'bootTimeoutSec' | 'panicTimeoutSec']> = [
    ['canary_serial', 'canarySerial'],
    ['boot_timeout', 'bootTimeoutSec'],
    ['panic_timeout', 'panicTimeoutSec'],
  ];
  for (const [key, field] of ints) {
    if (ro[key] === undefined) continue;
    if (positiveInt(ro[key])) settings[field] = ro[key];
    else
      problems.push({
        path: ['rollout', key],
        message: `${key} ${JSON.stringify(ro[key])} is not a positive whole number`,
        hint: `e.g. \`${key}: ${defaultRolloutSettings[field]}\``,
      });
  }
  if (ro.prepare_boot !== undefined) {
    if (typeof ro.prepare_boot === 'boolean') settings.prepareBoot = ro.prepare_boot;
    else
      problems.push({
        path: ['rollout', 'prepare_boot'],
        message: `prepare_boot ${JSON.stringify(ro.prepare_boot)} is not true or false`,
        hint: 'write `prepare_boot: true` to let the rollout make GRUB trial-boot ready (boot_default), or leave it out',
      });
  }
  const after = parsePause(ro.pause_after_canaries, ['rollout', 'pause_after_canaries'], problems);
  if (after) settings.pauseAfterCanaries = after;
  const between = parsePause(ro.pause_between_batches, ['rollout', 'pause_between_batches'], problems);
  if (between) settings.pauseBetweenBatches = between;
  parseVerify(ro.verify, settings, problems);
  if (ro.window !== undefined && ro.window !== null) {
    const w = windowFromMapping(ro.window, 'window');
    if ('window' in w) settings.window = w.window;
    else
      for (const p of w.problems)
        problems.push({ path: ['rollout', 'window', ...(p.key ? [p.key] : [])], message: p.message, hint: p.hint });
  }
  if (ro.guests !== undefined) {
    try {
      settings.guests = drainPolicyFrom(ro.guests);
    } catch (err) {
      problems.push({
        path: ['rollout', 'guests'],
        message: (err as Error).message,
        hint: 'write `guests: shutdown`, `guests: refuse`, or e.g. `guests: {movable: shutdown, with_devices: refuse, shutdown_timeout: 120, on_timeout: fail}`',
      });
    }
  }
  return { settings, problems };
}
