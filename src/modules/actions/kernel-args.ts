/**
 * kernel_args: make arguments present on / absent from the kernel command line through the host's own boot
 * tooling (see boot/boot-tooling.ts), byte-preserving edits, exact preview, undo by restoring the files.
 */
import { defineHostModule, type ArgsOf } from '../define-module.js';
import { listOption } from '../expectations.js';
import { stringList } from '../option-schemas.js';
import { ModuleFailure, type CheckOutcome, type ModuleContext } from '../module.js';
import { hostRootFromVars, toolCommand, type HostRoot } from '../host-root.js';
import { readRemoteFile, readRemoteFiles, type RemoteFile } from '../host-files.js';
import { applyFileChange, editableText, planFileChange, type FileChange, type PlannedFile } from '../file-change.js';
import {
  argKey,
  argsSatisfied,
  requestProblems,
  wordMustGo,
  missingArgs,
  type ArgRequest,
} from '../boot/cmdline-args.js';
import { editCmdlineFile, editGrubFiles, type GrubFile } from '../boot/grub-defaults.js';
import { detectBootTooling, type BootTooling } from '../boot/boot-tooling.js';
import {
  cmdlineBase,
  parseGrubCfgKernelLines,
  readCpuVendor,
  readGrubbyArgs,
  type CpuVendor,
} from '../boot/boot-state.js';

/** The options, as the schema below describes them. */
export type KernelArgsArgs = ArgsOf<typeof kernelArgs.options>;

export type KernelArgsChange = FileChange & { request: ArgRequest; verifyGrubCfg: string | null };

/** intel_iommu on an AMD host (or amd_iommu on an Intel one) is almost always a copy-paste mistake. */
export function vendorProblem(present: readonly string[], vendor: CpuVendor): string | null {
  const on = (key: string) => present.find((a) => argKey(a) === key && !a.endsWith('=off'));
  const wrong = vendor === 'amd' ? on('intel_iommu') : vendor === 'intel' ? on('amd_iommu') : undefined;
  return wrong
    ? `${wrong} is for ${vendor === 'amd' ? 'Intel' : 'AMD'} CPUs but this host's CPU is ${vendor === 'amd' ? 'AMD' : 'Intel'}; use ${vendor === 'amd' ? 'amd_iommu' : 'intel_iommu'} or set force: true`
    : null;
}

const describe = (req: ArgRequest): string =>
  [...req.present.map((a) => `+${a}`), ...req.absent.map((a) => `-${a}`)].join(' ');

async function planGrubFiles(ctx: ModuleContext, tooling: BootTooling, req: ArgRequest): Promise<PlannedFile[]> {
  const files = await readRemoteFiles(ctx.conn, tooling.grubFiles);
  const texts: GrubFile[] = files.map((f) => ({ path: f.path, text: editableText(f) ?? '' }));
  let edited: GrubFile[];
  try {
    edited = editGrubFiles(texts, req);
  } catch (err) {
    throw new ModuleFailure((err as Error).message);
  }
  return files.map((file, i) => ({ file, after: file.exists || edited[i]!.text !== '' ? edited[i]!.text : null }));
}

async function planCmdlineFile(ctx: ModuleContext, hr: HostRoot, path: string, req: ArgRequest): Promise<PlannedFile> {
  const file = await readRemoteFile(ctx.conn, path);
  let text = editableText(file);
  if (text === null) {
    // kernel-install falls back to /proc/cmdline when the file is missing; start from the same words.
    const proc = await readRemoteFile(ctx.conn, hr.path('/proc/cmdline'));
    text = `${cmdlineBase(proc.exists ? proc.content.toString('utf8') : '')}\n`;
  }
  return { file, after: editCmdlineFile(text, req) };
}

/** grubby commands bringing every entry to the request; [] when all entries already satisfy it. */
function grubbyCommands(hr: HostRoot, grubby: string, entries: string[][], req: ArgRequest): string[] {
  const remove = [...new Set(entries.flatMap((words) => words.filter((w) => wordMustGo(w, req))))];
  const add = [
    ...new Set(
      entries.flatMap((words) =>
        missingArgs(
          words.filter((w) => !wordMustGo(w, req)),
          req,
        ),
      ),
    ),
  ];
  const cmds: string[] = [];
  if (remove.length)
    cmds.push(toolCommand(hr, grubby, ['--update-kernel=ALL', `--remove-args=${remove.join(' ')}`]).text);
  if (add.length) cmds.push(toolCommand(hr, grubby, ['--update-kernel=ALL', `--args=${add.join(' ')}`]).text);
  return cmds;
}

/** Whether a generated grub.cfg has a kernel line carrying the request (the normal entries do after refresh). */
function grubCfgSatisfies(cfg: RemoteFile, req: ArgRequest): boolean {
  return cfg.exists && parseGrubCfgKernelLines(cfg.content.toString('utf8')).some((words) => argsSatisfied(words, req));
}

export const kernelArgs = defineHostModule({
  name: 'kernel_args',
  description:
    "Add or remove kernel command-line arguments through the host's own boot tooling (GRUB, grubby, systemd-boot, Proxmox).",
  changesHost: true,
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      present: {
        ...stringList,
        description: 'arguments that must be on the cmdline, e.g. ["intel_iommu=on", "iommu=pt"]',
      },
      absent: { ...stringList, description: 'arguments (name or name=value) that must not be on the cmdline' },
      bootloader: { enum: ['auto', 'grub', 'grubby', 'systemd-boot', 'proxmox'], default: 'auto' },
      force: {
        type: 'boolean',
        default: false,
        description: 'allow intel_iommu on an AMD host or amd_iommu on an Intel host',
      },
    },
    anyOf: [{ required: ['present'] }, { required: ['absent'] }],
  },

  async check(ctx, args): Promise<CheckOutcome<KernelArgsChange>> {
    const req: ArgRequest = { present: args.present ?? [], absent: args.absent ?? [] };
    const problems = requestProblems(req);
    if (problems.length) throw new ModuleFailure(problems.join('; '));
    const hr = hostRootFromVars(ctx.vars);
    if (!args.force) {
      const problem = vendorProblem(req.present, await readCpuVendor(ctx.conn, hr));
      if (problem) throw new ModuleFailure(problem);
    }
    const tooling = await detectBootTooling(ctx.conn, hr, args.bootloader ?? 'auto');
    const planned: PlannedFile[] = [];
    if (tooling.grubFiles.length) planned.push(...(await planGrubFiles(ctx, tooling, req)));
    if (tooling.cmdlineFile) planned.push(await planCmdlineFile(ctx, hr, tooling.cmdlineFile, req));
    const filesChange = planned.some((p) => editableText(p.file) !== p.after);
    const grubbyCmds = tooling.grubby
      ? grubbyCommands(hr, tooling.grubby, await readGrubbyArgs(ctx.conn, hr, tooling.grubby), req)
      : [];
    // Files already right but the generated config stale (edited by hand, refresh never run): refresh again.
    const staleCfg =
      tooling.grubCfg !== null &&
      !filesChange &&
      !grubCfgSatisfies(await readRemoteFile(ctx.conn, tooling.grubCfg), req);
    const commands = [...(filesChange || staleCfg ? tooling.refresh : []), ...grubbyCmds];
    const outcome = planFileChange({
      summary: `kernel args ${describe(req)} via ${tooling.kind}`,
      files: planned,
      commands,
      rebuild: tooling.refresh,
      alsoBackup: await readRemoteFiles(ctx.conn, tooling.toolWrittenFiles),
      changeWithoutFiles: commands.length > 0,
      extra: { bootloader: tooling.kind },
      rebootRequired: true,
    });
    if (outcome.status === 'no_change') return outcome;
    return { ...outcome, change: { ...outcome.change, request: req, verifyGrubCfg: tooling.grubCfg } };
  },

  async apply(ctx, _args, change) {
    await applyFileChange(ctx.conn, change);
    if (change.verifyGrubCfg) {
      const cfg = await readRemoteFile(ctx.conn, change.verifyGrubCfg);
      if (!grubCfgSatisfies(cfg, change.request)) {
        throw new ModuleFailure(
          `${change.verifyGrubCfg} was regenerated but no kernel line carries ${describe(change.request)}; a grub.d script may override GRUB_CMDLINE_LINUX`,
        );
      }
    }
    return {
      message: `kernel args ${describe(change.request)} written; takes effect at next boot`,
      data: { reboot_required: true },
    };
  },
  expectAfterBoot(exp, { args }) {
    exp.argsPresent.push(...listOption(args.present));
    exp.argsAbsent.push(...listOption(args.absent));
  },
});
