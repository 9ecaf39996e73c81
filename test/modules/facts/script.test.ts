import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { buildCollectionScript, splitSections } from '../../../src/modules/facts/script.js';
import { raw } from '../../../src/connection/shell-quote.js';

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
