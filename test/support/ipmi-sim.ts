/**
 * A real IPMI BMC on loopback for tests: OpenIPMI's ipmi_sim (RMCP+ on a UDP port of 127.0.0.1) with one admin
 * user and a chassis-control script that records every power request and keeps the power state in a file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IpmiSim {
  port: number;
  dir: string;
  /** Requests the BMC passed to its chassis control, e.g. 'set reset 1', 'get power'. */
  calls(): string[];
  stop(): Promise<void>;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

export async function startIpmiSim(opts: { user: string; password: string }): Promise<IpmiSim> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-ipmi-'));
  const port = await freeUdpPort();
  const script = join(dir, 'chassis.sh');
  writeFileSync(
    script,
    `#!/bin/sh
echo "$*" >> ${dir}/calls.log
op=$1; shift
case "$op" in
  get) for n in "$@"; do [ "$n" = power ] && echo "power:$(cat ${dir}/power 2>/dev/null || echo 1)"; done ;;
  set) while [ $# -gt 1 ]; do [ "$1" = power ] && echo "$2" > ${dir}/power; shift 2; done ;;
esac
`,
  );
  chmodSync(script, 0o755);
  writeFileSync(
    join(dir, 'lan.conf'),
    `name "rgtest"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${script}"
  user 2 true "${opts.user}" "${opts.password}" admin 10 none md2 md5 straight
`,
  );
  writeFileSync(
    join(dir, 'emu.cmds'),
    'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n',
  );
  mkdirSync(join(dir, 'state'));
  const proc: ChildProcess = spawn(
    'ipmi_sim',
    ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'emu.cmds'), '-n', '-s', join(dir, 'state')],
    { stdio: 'ignore' },
  );
  // ipmi_sim binds its socket right after reading the config; give it a moment, bounded.
  await new Promise((r) => setTimeout(r, 700));
  if (proc.exitCode !== null) throw new Error(`ipmi_sim exited with ${proc.exitCode}`);
  return {
    port,
    dir,
    calls: () =>
      existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n') : [],
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
