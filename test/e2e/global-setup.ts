/**
 * e2e global setup: remember whether the suite's lab was already running; after the whole e2e run, stop the lab
 * this run started (every QEMU process), unless ROLLGATE_LAB_KEEP=1. A lab that was up before the run is left up.
 * The lab itself is started by the first file that needs it (lab-harness.ts ensureLab), so the unit and
 * integration projects do not wait for it. The claims' settling window (lab-claims.ts) is reset for this run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labDown } from '../../src/lab/lab.js';
import { pidAlive } from '../../src/lab/lock-file.js';
import { hostNames, labPaths, readLabState } from '../../src/lab/state.js';
import { vmPid } from '../../src/lab/vm.js';
import { E2E_INVENTORY, e2eSettings } from './lab-harness.js';
import { clearLabOpen } from './lab-claims.js';

export default function setup(): () => Promise<void> {
  const settings = e2eSettings();
  const state = readLabState(labPaths(settings.stateDir));
  const wasUp = !!state && hostNames(state).some((h) => vmPid(state.hosts[h]!) !== undefined);
  // This run's settling window (lab-claims.ts) starts when its first file sees the lab up.
  clearLabOpen(settings);
  return async () => {
    if (wasUp || process.env.ROLLGATE_LAB_KEEP === '1') return;
    // Another e2e run (another checkout, a second terminal) still has scenarios on the lab: leave it up.
    const claims = join(settings.stateDir, 'claims');
    const held = existsSync(claims)
      ? readdirSync(claims).filter((h) => {
          try {
            return pidAlive((JSON.parse(readFileSync(join(claims, h), 'utf8')) as { pid: number }).pid);
          } catch {
            return false;
          }
        })
      : [];
    if (held.length) {
      process.stderr.write(`e2e teardown: lab left running: another run holds ${held.join(', ')}\n`);
      return;
    }
    // Another session holding the lab lock is using the lab: leave it to them rather than pull it away.
    await labDown(settings, { lockTimeoutMs: 60_000, inventoryFile: E2E_INVENTORY }).catch((err: Error) => {
      process.stderr.write(`e2e teardown: lab left running: ${err.message}\n`);
    });
  };
}
