/**
 * e2e global setup: remember whether a lab was already running; after the whole e2e run, stop the lab this
 * run started (every QEMU process), unless ROLLGATE_LAB_KEEP=1. A lab that was up before the run is left up.
 */
import { readFileSync } from 'node:fs';
import { labDown } from '../../src/lab/lab.js';
import { labSettings } from '../../src/lab/settings.js';
import { hostNames, labPaths, readLabState } from '../../src/lab/state.js';
import { vmPid } from '../../src/lab/vm.js';

export default function setup(): () => Promise<void> {
  const settings = labSettings(process.env, (p) => readFileSync(p, 'utf8'));
  const state = readLabState(labPaths(settings.stateDir));
  const wasUp = !!state && hostNames(state).some((h) => vmPid(state.hosts[h]!) !== undefined);
  return async () => {
    if (wasUp || process.env.ROLLGATE_LAB_KEEP === '1') return;
    await labDown(settings);
  };
}
