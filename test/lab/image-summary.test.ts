import { describe, expect, it } from 'vitest';
import { summarizeImage } from '../../src/lab/image-summary.js';
import type { LabImage } from '../../src/lab/image.js';

const image: LabImage = {
  dir: '/c/images/0123456789abcdef',
  hash: '0123456789abcdef',
  base: '/c/images/0123456789abcdef/base.qcow2',
  operatorKey: '/c/images/0123456789abcdef/id_ed25519',
  manifest: {
    recipeHash: '0123456789abcdef',
    suite: 'bookworm',
    mirror: 'http://deb.debian.org/debian',
    kernel: '6.1.0-47-amd64',
    updateKernel: '6.1.0-50-amd64',
    badKernel: '6.1.0-99-amd64',
    rootUuid: '269aaee2-b9d5-4e23-8d9d-a10873374e97',
    diskSize: '3G',
    builtAt: '2026-12-06T05:40:00Z',
    buildSeconds: 251,
    imageBytes: 780 * 1048576,
  },
};

describe('rollgate lab image summary', () => {
  it('names the running kernel, the good update and the bad kernel of the guest repository', () => {
    expect(summarizeImage(image)).toEqual([
      'image 0123456789abcdef: /c/images/0123456789abcdef/base.qcow2',
      '  Debian bookworm, kernel 6.1.0-47-amd64, built 2026-12-06T05:40:00Z in 251 s, 780 MiB qcow2',
      '  guest apt repository: good kernel update 6.1.0-50-amd64 (linux-image-6.1.0-50-amd64), bad kernel 6.1.0-99-amd64 (linux-image-6.1.0-99-amd64)',
      expect.stringMatching(/^ {2}kinds: intel-gpu-node \(rollgate-lab Intel GPU node\), amd-gpu-node /),
    ]);
  });
});
