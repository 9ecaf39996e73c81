import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLEET_ADMIN_USER } from '../../src/lab/sshd-fleet.js';
import { renderShellLine } from '../../src/executor/shell-template.js';
import { createScope } from '../../src/template/template.js';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import type { SshConnection } from '../../src/connection/ssh.js';
import type { ActionModule } from '../../src/modules/module.js';
import { moduleNames, modules } from '../../src/modules/registry.js';
import { kernelArgs } from '../../src/modules/actions/kernel-args.js';
import { vfioBind } from '../../src/modules/actions/vfio-bind.js';
import { driverBlacklist } from '../../src/modules/actions/driver-blacklist.js';
import { initramfs } from '../../src/modules/actions/initramfs.js';
import { kernelPackage } from '../../src/modules/actions/kernel-package.js';
import { reboot } from '../../src/modules/actions/reboot.js';
import { connect, hashTree, moduleContext, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { buildRoot, LAB_PCI, put } from './support/fake-root.js';
import { runContract } from './support/module-contract.js';

let fleet: SshdFleet;
let conn: SshConnection;
let base: string;
let canary: string;
const roots: string[] = [];

/** Every way a value could break out of a shell word: each one would create the canary if it ran. */
const hostile = () => [
  `x'; touch ${canary}; echo '`,
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `a"b"; touch ${canary} #`,
  `line1\ntouch ${canary}\n`,
  `10de:1e87;touch ${canary}`,
];

function root(label: string, dirName?: string): string {
  const dir = dirName ? join(base, dirName) : tempRoot(label);
  if (dirName) mkdirSync(dir, { recursive: true, mode: 0o755 });
  roots.push(dir);
  buildRoot(dir, 'debian', { pci: LAB_PCI });
  return dir;
}

beforeAll(async () => {
  fleet = await startFleet(1);
  conn = await connect(fleet, 0);
  base = tempRoot('hostile-base');
  canary = join(base, 'CANARY');
});
afterAll(async () => {
  await conn?.close();
  await fleet?.stop();
  roots.forEach(removeRoot);
  removeRoot(base);
});

describe('hostile values through every change module', () => {
  it('refuses hostile option values before running anything, in every module', async () => {
    const r = root('hostile-opts');
    const before = hashTree(r);
    const cases: Array<[ActionModule<any, any>, (v: string) => Record<string, unknown>]> = [
      [kernelArgs, (v) => ({ present: [v] })],
      [kernelArgs, (v) => ({ absent: [v] })],
      [vfioBind, (v) => ({ ids: [v] })],
      [vfioBind, (v) => ({ ids: ['8086:10d3'], allow_group_members: [v] })],
      [driverBlacklist, (v) => ({ drivers: [v] })],
      [initramfs, (v) => ({ kernel: v })],
      [initramfs, (v) => ({ require_modules: [v] })],
      [kernelPackage, (v) => ({ version: v })],
    ];
    for (const [mod, args] of cases) {
      for (const v of hostile()) {
        await expect(
          mod.check(moduleContext(conn, { rollgate_root: r }), args(v) as never),
          `${mod.name} ${JSON.stringify(args(v))}`,
        ).rejects.toMatchObject({ name: 'ModuleFailure' });
      }
    }
    expect(existsSync(canary)).toBe(false);
    expect(hashTree(r)).toBe(before);
    // Every change module of the registry is covered above or below (reboot: literal reason).
    // (the host modules that change files: neither a controller module nor command/shell, which skip check mode)
    const changeModules = moduleNames.filter((n) => !('kind' in modules[n]) && !('checkModeSkips' in modules[n]));
    // boot_default takes no text option: its hostile input is what the host's GRUB defaults say, and a value the
    // shell would compute is refused there (test/integration/boot-default.test.ts).
    expect(changeModules.sort()).toEqual([
      'boot_default',
      'driver_blacklist',
      'initramfs',
      'kernel_args',
      'kernel_package',
      'reboot',
      'vfio_bind',
    ]);
  });

  it('passes a hostile reboot reason to the host as literal data', async () => {
    const r = root('hostile-reboot');
    const reason = hostile().join(' | ');
    const ctx = {
      ...moduleContext(conn, { rollgate_root: r, rollgate_reboot_poll_seconds: 0.3 }),
      reconnect: async () => conn,
    };
    const out = await reboot.check(ctx, { boot_timeout: 20, reason });
    if (out.status !== 'change') throw new Error('expected change');
    await reboot.apply(ctx, { reason }, out.change);
    expect(readFileSync(join(r, 'var/log/rollgate-logger.log'), 'utf8')).toBe(`-t\nrollgate\n--\nreboot: ${reason}\n`);
    expect(existsSync(canary)).toBe(false);
  });

  it('runs every module in a root whose path is full of shell syntax: paths arrive literally, undo is exact', async () => {
    // No '/' fits in a directory name: the payloads touch a file in the executing user's home (or cwd).
    const homeCanaries = ['/root', '/var/lib/rollgate-fleet/rgops', process.cwd(), base].map((d) =>
      join(d, 'rg-hostile-canary'),
    );
    homeCanaries.forEach((c) => rmSync(c, { force: true }));
    const r = root('', `root 'q' "d" $(cd;touch rg-hostile-canary) ; \`cd;touch rg-hostile-canary\` & | *`);
    await runContract(conn, r, kernelArgs, { present: ['intel_iommu=on', 'iommu=pt'] });
    await runContract(conn, r, vfioBind, { ids: ['10de:1e87', '10de:10f8'] });
    await runContract(conn, r, driverBlacklist, { drivers: ['nouveau'] });
    // kernel_package is done once the target runs: the "reboot" is the root's running kernel changing.
    await runContract(
      conn,
      r,
      kernelPackage,
      { version: '6.1.0-51-test', hold: true },
      { exclude: ['proc'], afterApply: () => put(r, 'proc/sys/kernel/osrelease', '6.1.0-51-test\n') },
    );
    expect(existsSync(canary)).toBe(false);
    for (const c of homeCanaries) expect(existsSync(c), c).toBe(false);
  });

  it('refuses a root with a newline, and values hidden in existing files are not evaluated', async () => {
    await expect(
      kernelArgs.check(moduleContext(conn, { rollgate_root: '/tmp/a\nb' }), { present: ['iommu=pt'] }),
    ).rejects.toThrow(/control characters/);
    const r = root('hostile-file');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(r, 'etc/default/grub'), `GRUB_CMDLINE_LINUX="$(touch ${canary})"\n`);
    await expect(
      kernelArgs.check(moduleContext(conn, { rollgate_root: r }), { present: ['iommu=pt'] }),
    ).rejects.toThrow(/command substitution/);
    expect(existsSync(canary)).toBe(false);
    rmSync(canary, { force: true });
  });
});

/**
 * Shell contexts where a value quoted as one word is still read as code. Each value below ran its planted
 * `touch` on a real host before rollgate refused `{{ }}` in these places (bash is the login shell there).
 */
function shellCases(dir: string): Array<{ context: string; line: string; value: string; refusal: string }> {
  const c = (name: string) => join(dir, name);
  return [
    {
      context: 'heredoc',
      line: 'cat <<EOF >/dev/null\n{{ v }}\nEOF',
      value: `$(touch ${c('heredoc')})`,
      refusal: 'is in a heredoc body',
    },
    {
      context: 'quoted heredoc',
      line: "cat <<'EOF' >/dev/null\n{{ v }}\nEOF",
      value: `x\nEOF\ntouch ${c('quoted-heredoc')} #`,
      refusal: 'is in a heredoc body',
    },
    { context: 'comment', line: 'true # {{ v }}', value: `x\ntouch ${c('comment')} #`, refusal: 'is in a # comment' },
    {
      context: 'arithmetic',
      line: 'echo $(( {{ v }} + 1 ))',
      value: `$(touch ${c('arithmetic')})`,
      refusal: 'is inside shell arithmetic',
    },
    {
      context: '[[ ]]',
      line: '[[ {{ v }} -eq 1 ]]',
      value: `a[$(touch ${c('double-brackets')})]`,
      refusal: 'is inside [[ ]]',
    },
    {
      context: "$'…'",
      line: "printf %s $'a\\' {{ v }}'",
      value: `;touch ${c('ansi-c')};`,
      refusal: "is inside a $'…' string",
    },
    { context: 'let', line: 'let n={{ v }}', value: `a[$(touch ${c('let')})]`, refusal: 'is an argument of `let`' },
    {
      context: 'backquotes',
      line: 'echo `echo {{ v }}`',
      value: `x\`;touch ${c('backquotes')};\`y`,
      refusal: 'is inside backquotes',
    },
    {
      context: '${ }',
      line: 'X=abc; echo ${X:{{ v }}}',
      value: `a[$(touch ${c('parameter')})]`,
      refusal: 'is inside ${ }',
    },
    {
      context: 'array subscript',
      line: 'a[{{ v }}]=1',
      value: `$(touch ${c('subscript')})`,
      refusal: 'is inside shell arithmetic',
    },
    { context: 'eval', line: 'eval echo {{ v }}', value: `$(touch ${c('eval')})`, refusal: 'is an argument of `eval`' },
    { context: 'trap', line: 'trap {{ v }} EXIT', value: `touch ${c('trap')}`, refusal: 'is an argument of `trap`' },
    { context: 'sh -c', line: 'sh -c {{ v }}', value: `touch ${c('sh-c')}`, refusal: 'is in the script of `sh -c`' },
    {
      context: 'declare -a',
      line: 'declare -a arr={{ v }}',
      value: `($(touch ${c('declare')}))`,
      refusal: 'is a variable name (or array value) of `declare`',
    },
    {
      context: 'read',
      line: 'read {{ v }} <<< x',
      value: `a[$(touch ${c('read')})]`,
      refusal: 'is a variable name (or array value) of `read`',
    },
    {
      context: '[ -v ]',
      line: '[ -v {{ v }} ]',
      value: `a[$(touch ${c('test-v')})]`,
      refusal: 'is a variable name (or array value) of `[`',
    },
    {
      context: 'printf -v',
      line: 'printf -v {{ v }} %s x',
      value: `a[$(touch ${c('printf-v')})]`,
      refusal: 'is a variable name (or array value) of `printf`',
    },
  ];
}

describe('hostile values in shell lines', () => {
  let dir: string;
  let plain: SshConnection;
  beforeAll(async () => {
    plain = await connect(fleet, 0, { become: false });
    dir = tempRoot('hostile-shell');
    chmodSync(dir, 0o1777); // the planted commands run as the login user
  });
  afterAll(async () => {
    await plain?.close();
    removeRoot(dir);
  });
  const planted = () =>
    readdirSync(dir).filter((f) => !f.endsWith('.yml') && !f.endsWith('.json') && f !== 'journal.db');

  it('refuses every such context at load time (exit 2, file:line:col) and no planted command runs', async () => {
    const cases = shellCases(dir);
    const playbook = [
      {
        hosts: 'all',
        tasks: cases.map((k, i) => ({
          name: k.context,
          shell: k.line.replaceAll('{{ v }}', `{{ v${i} }}`),
          ignore_errors: true,
        })),
      },
    ];
    writeFileSync(join(dir, 'play.yml'), JSON.stringify(playbook, null, 2));
    writeFileSync(join(dir, 'vars.json'), JSON.stringify(Object.fromEntries(cases.map((k, i) => [`v${i}`, k.value]))));
    const host = fleet.hosts[0]!;
    writeFileSync(
      join(dir, 'inventory.yml'),
      `all:\n  hosts:\n    ${host.name}:\n      ansible_host: 127.0.0.1\n      ansible_port: ${host.port}\n      ansible_user: ${FLEET_ADMIN_USER}\n      ansible_ssh_private_key_file: ${fleet.clientKey}\n      rollgate_known_hosts_file: ${fleet.knownHosts}\n`,
    );
    const out = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const cli = new URL('../../bin/rollgate.js', import.meta.url).pathname;
      const args = [
        cli,
        'run',
        join(dir, 'play.yml'),
        '-i',
        join(dir, 'inventory.yml'),
        '-e',
        `@${join(dir, 'vars.json')}`,
        '--journal',
        join(dir, 'journal.db'),
      ];
      execFile(
        process.execPath,
        args,
        { timeout: 60_000, env: { ...process.env, SSH_AUTH_SOCK: '' } },
        (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(planted()).toEqual([]);
    expect(out.code, out.stderr).toBe(2);
    const lines = out.stderr.split('\n').filter((l) => l.includes('play.yml:'));
    expect(lines).toHaveLength(cases.length);
    cases.forEach((k, i) => expect(lines[i], k.context).toContain(`\`{{ v${i} }}\` ${k.refusal}`));
  });

  it('runs none of them even when the loader is bypassed: rendering refuses each line', async () => {
    for (const k of shellCases(dir)) {
      const scope = createScope([{ kind: 'extra', vars: { v: k.value } }]);
      let line: string;
      try {
        line = renderShellLine(k.line, scope, { file: 'play.yml', line: 1, column: 1 });
      } catch (err) {
        expect((err as Error).message, k.context).toContain(k.refusal);
        continue;
      }
      await plain.exec(line); // only reached when a context slips through: its canary then fails the test below
    }
    expect(planted()).toEqual([]);
  });

  it('keeps the values data in the forms the refusals suggest', async () => {
    const value = `x'"$(touch ${join(dir, 'fix')})\`id\`\nEOF\n# a[$(id)] \\ $'q'`;
    const scope = createScope([{ kind: 'extra', vars: { v: value, n: '7', pages: 'a[$(id)]' } }]);
    const lines = [
      'v={{ v }}\ncat <<EOF\n$v\nEOF',
      'sh -c \'printf "%s\\n" "$1"\' sh {{ v }}',
      "eval printf '%s\\\\n' {{ v | quote }}",
      "printf '%s\\n' {{ v }}",
    ];
    for (const l of lines) {
      const r = await plain.exec(renderShellLine(l, scope));
      expect(r.stdout, l).toBe(`${value}\n`);
    }
    expect(
      (await plain.exec(renderShellLine('echo $(( {{ n | int }} * 2 )) $(( {{ pages | int }} ))', scope))).stdout,
    ).toBe('14 0\n');
    expect(planted()).toEqual([]);
  });
});
