import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { buildCollectionScript, splitSections } from '../../../src/modules/facts/script.js';
import { raw } from '../../../src/connection/shell-quote.js';
import { allSources } from '../../../src/modules/facts/sources.js';

function runLocally(text: string): string {
  return execFileSync('sh', ['-s'], { input: text, maxBuffer: 1e8 }).toString();
}

describe('the collection script', () => {
  it('frames each source with its stdout, stderr and exit status, byte for byte', () => {
    const { nonce, script } = buildCollectionScript([
      { name: 'a', snippet: raw("printf 'no newline'") },
      { name: 'b', snippet: raw("printf 'x\\n\\n'; echo oops >&2; exit 3") },
      { name: 'c', snippet: raw('nosuchcommand-rg') },
    ]);
    const s = splitSections(runLocally(script.text), nonce);
    expect(s.get('a')).toEqual({ stdout: 'no newline', stderr: '', exitCode: 0 });
    expect(s.get('b')).toEqual({ stdout: 'x\n\n', stderr: 'oops\n', exitCode: 3 });
    expect(s.get('c')?.exitCode).toBe(127);
  });

  it('runs an instant section in a subshell: the same frame, its exit its own, the next section still framed', () => {
    const { nonce, script } = buildCollectionScript([
      { name: 'i', snippet: raw("printf 'kernel\\n'; echo warn >&2; exit 4"), instant: true },
      { name: 'j', snippet: raw("printf 'no newline'"), instant: true },
      { name: 'after', snippet: raw('echo err >&2; echo ok') },
    ]);
    expect(script.text).toMatch(/^rg_sec i '.*' instant$/m);
    expect(script.text).toMatch(/^rg_sec after 'echo err >&2; echo ok'$/m);
    const s = splitSections(runLocally(script.text), nonce);
    expect(s.get('i')).toEqual({ stdout: 'kernel\n', stderr: 'warn\n', exitCode: 4 });
    expect(s.get('j')).toEqual({ stdout: 'no newline', stderr: '', exitCode: 0 });
    // The subshell's exit ran no EXIT trap of the script: its temporary directory still takes the next stderr.
    expect(s.get('after')).toEqual({ stdout: 'ok\n', stderr: 'err\n', exitCode: 0 });
  });

  it('reads only kernel memory in the sections it runs without a time limit', () => {
    const instant = allSources({ passthroughIds: ['10de:1eb8'], profileSeconds: 0 }).filter((x) => x.instant);
    expect(instant.map((x) => x.name).sort()).toEqual(
      [
        'boot_id',
        'cmdline',
        'cpuinfo',
        'interrupts',
        'kernel_release',
        'meminfo',
        'modules',
        'tainted',
        'whoami',
      ].sort(),
    );
    // One command each, reading procfs or printing what the kernel returns from a system call.
    for (const x of instant)
      expect(x.snippet.text).toMatch(/^(cat \/proc\/\S+|uname -r|id -u|grep .* \/proc\/\w+(; exit 0)?)$/);
  });

  it('cannot be confused by output that imitates its markers', () => {
    const { nonce, script } = buildCollectionScript([
      { name: 'evil', snippet: raw("printf '\\n@@rg:0000:end evil 0@@\\n@@rg:%s:err evil@@\\n' guess") },
      { name: 'next', snippet: raw('echo fine') },
    ]);
    const s = splitSections(runLocally(script.text), nonce);
    expect(s.get('evil')?.stdout).toContain('@@rg:0000:end evil 0@@');
    expect(s.get('next')).toEqual({ stdout: 'fine\n', stderr: '', exitCode: 0 });
  });

  it('stops a source at its time limit and goes on with the next', () => {
    const { nonce, script } = buildCollectionScript(
      [
        { name: 'slow', snippet: raw('sleep 30') },
        { name: 'after', snippet: raw('echo ok') },
      ],
      1,
    );
    const s = splitSections(runLocally(script.text), nonce);
    expect(s.get('slow')?.exitCode).toBe(124);
    expect(s.get('after')?.stdout).toBe('ok\n');
  });

  it('drops a section whose frame was cut off', () => {
    const { nonce, script } = buildCollectionScript([
      { name: 'a', snippet: raw('echo 1') },
      { name: 'b', snippet: raw('echo 2') },
    ]);
    const out = runLocally(script.text);
    const cut = out.slice(0, out.indexOf(`:end b `));
    expect([...splitSections(cut, nonce).keys()]).toEqual(['a']);
  });
});
