/**
 * A loaded play's rollout settings: Ansible's `serial` and `max_fail_percentage` as the loader read them, plus
 * the play's `rollout:` mapping (already checked against its schema by the loader, with file:line:col). What the
 * schema cannot say is reported here at the `rollout:` key's position.
 */
import { ConfigError } from '../core/config-error.js';
import type { SourcePosition } from '../core/config-error.js';
import type { SerialStep } from './serial.js';
import { parseRolloutSettings, type RolloutSettings } from './settings.js';

/** What of a loaded play (load/'s `Play`) the rollout reads. */
export interface PlayRolloutKeys {
  position: SourcePosition;
  serial?: SerialStep[];
  maxFailPercentage?: number;
  rollout?: Record<string, unknown>;
  rolloutPosition?: SourcePosition;
}

export function rolloutSettingsOf(play: PlayRolloutKeys): RolloutSettings {
  // serial and max_fail_percentage were read by the loader with the same parsers `run` uses (./serial.ts,
  // ./threshold.ts): taken as they are, not read a second time.
  const { settings, problems } = parseRolloutSettings(play.rollout !== undefined ? { rollout: play.rollout } : {});
  if (play.serial) settings.serial = play.serial;
  if (play.maxFailPercentage !== undefined) settings.maxFailPercentage = play.maxFailPercentage;
  if (problems.length) {
    throw new ConfigError(
      problems.map((p) => ({
        position: (p.path[0] === 'rollout' ? play.rolloutPosition : undefined) ?? play.position,
        message: `${p.path.join('.')}: ${p.message}`,
        ...(p.hint ? { hint: p.hint } : {}),
      })),
    );
  }
  return settings;
}
