/**
 * A loaded play's rollout settings: Ansible's `serial` and `max_fail_percentage` as the loader read them, plus
 * the play's `rollout:` mapping (already checked against its schema by the loader, with file:line:col). What the
 * schema cannot say is reported here at the `rollout:` key's position.
 */
import { ConfigError } from '../core/config-error.js';
import type { Play } from '../load/playbook-types.js';
import { parseRolloutSettings, type RolloutSettings } from './settings.js';

export function rolloutSettingsOf(play: Play): RolloutSettings {
  const raw: Record<string, unknown> = {};
  if (play.serial) raw.serial = play.serial.map((s) => (s.kind === 'percent' ? `${s.value}%` : s.value));
  if (play.maxFailPercentage !== undefined) raw.max_fail_percentage = play.maxFailPercentage;
  if (play.rollout !== undefined) raw.rollout = play.rollout;
  const { settings, problems } = parseRolloutSettings(raw);
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
