import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { hangOnceFiles, hostDriverFiles, slowBootFiles, sshdDownFiles, FAULT_DIR } from '../../../src/lab/faults/guest-files.js';
import { hostDriversById } from '../../../src/lab/kinds.js';

const all = [...hostDriverFiles(hostDriversById()), ...sshdDownFiles(), ...slowBootFiles(), ...hangOnceFiles()];

describe('fault files installed in a lab guest', () => {
  it('are valid shell scripts and unit files under rollgate-lab names', () => {
    for (const f of all) {
      if (f.path.endsWith('.service') || f.path.endsWith('.conf')) {
        expect(f.content).toMatch(/^\[(Unit|Service)\]/);
        expect(f.path).toMatch(/rollgate-lab-fault/);
      } else {
        expect(f.mode).toBe(0o755);
        execFileSync('sh', ['-n'], { input: f.content }); // throws on a syntax error
      }
    }
  });

  it('give the host driver of every passthrough id to the no-vfio-after-boot script', () => {
    const script = hostDriverFiles(hostDriversById())[0]!.content;
    expect(script).toContain("table='1234:1111 bochs-drm\n8086:293e snd_hda_intel\n8086:10d3 e1000e'");
  });

  it('withhold vfio-pci for one boot only where libvirt guests would take the device back', () => {
    const script = hostDriverFiles(hostDriversById())[0]!.content;
    expect(script).toContain(`if [ -x /usr/sbin/libvirtd ] && [ ! -e ${FAULT_DIR}/.vfio-withheld ]; then`);
    expect(script).toContain("echo 'install vfio_pci /bin/false' > /run/modprobe.d/rollgate-lab-fault-no-vfio.conf");
  });

  it('arm one-boot faults by a marker the boot consumes', () => {
    expect(slowBootFiles()[0]!.content).toContain(`rm -f ${FAULT_DIR}/slow-boot && sync`);
    expect(sshdDownFiles()[0]!.content).toContain(`touch /run/rollgate-lab-sshd-down && rm -f ${FAULT_DIR}/sshd-down && sync`);
    expect(hangOnceFiles()[0]!.content).toContain(`rm -f ${FAULT_DIR}/hang-once && sync`);
  });
});
