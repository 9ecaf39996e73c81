/**
 * Out-of-band power control: what rollgate uses when a host does not come back by itself. One driver per host,
 * configured in the inventory (`rollgate_power`); credentials come from variables or the environment and are
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

/**
 * Inventory form, e.g.
 *   rollgate_power: { driver: qmp, socket: /path/to/qmp.sock }
 *   rollgate_power: { driver: ipmi, host: 10.0.0.5, user: admin, password_env: IPMI_PASSWORD }
 *   rollgate_power: { driver: redfish, url: https://bmc.example, system: /redfish/v1/Systems/1, user: admin, password_env: BMC_PASSWORD }
 */
export interface PowerConfig {
  driver: 'qmp' | 'ipmi' | 'redfish' | 'none';
  [option: string]: unknown;
}
