/**
 * Out-of-band power control: what rollgate uses when a host does not come back by itself. One driver per host,
 * configured in the inventory (`rollgate_power`, see registry.ts); credentials come from variables or the environment and are
 * never logged, journaled or put in events.
 */

/** Power state as the controller reports it. */
export type PowerState = 'on' | 'off' | 'unknown';

export interface PowerDriver {
  /** Driver kind, e.g. 'qmp', 'ipmi', 'redfish'. */
  readonly kind: string;
  /** Where it points, safe to print (no credentials). */
  readonly describe: string;
  /** Hard reset (like pressing the reset button). */
  reset(): Promise<void>;
  powerOff(): Promise<void>;
  powerOn(): Promise<void>;
  status(): Promise<PowerState>;
}
