/**
 * The reset and isolation lines of `lspci -vv`: ACS capability and control (upstream ports), Function Level
 * Reset (DevCap `FLReset+`, or AF `FLR+`), ARI, the PCIe port type, and `Capabilities: <access denied>` when
 * lspci ran without root (then every answer is unknown, not "absent").
 * Accepts `egrep -n` excerpts (`82:  ACSCap: ...`) and blocks without a device line (attributed to null).
 */
import { normalizePciAddress } from './pci-address.js';

export interface PciCapabilities {
  /** `0000:00:01.0`; null for lines pasted without their device line. */
  address: string | null;
  /** PCIe port type: `Root Port`, `Downstream Port`, `Upstream Port`, `Endpoint`, ... */
  portType: string | null;
  /** lspci could not read the extended configuration space (not root). */
  accessDenied: boolean;
  /** ACS capability flags (`SrcValid`, `TransBlk`, `ReqRedir`, `CmpltRedir`, `UpstreamFwd`, ...) and controls. */
  acs: { cap: Record<string, boolean>; ctl: Record<string, boolean> } | null;
  /** DevCap FLReset; null when no DevCap line was seen. */
  flr: boolean | null;
  /** PCI Advanced Features FLR (conventional PCI functions). */
  afFlr: boolean | null;
  /** Alternative Routing-ID Interpretation capability present. */
  ari: boolean;
  driver: string | null;
  /** The matched lines, prefixes removed, for evidence. */
  lines: string[];
}

const DEVICE_LINE = /^((?:[0-9a-fA-F]{4,}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])\s+\S/;

function flags(text: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const m of text.matchAll(/([A-Za-z][\w]*)([+-])(?=\s|,|$)/g)) out[m[1]!] = m[2] === '+';
  return out;
}

function blank(address: string | null): PciCapabilities {
  return {
    address,
    portType: null,
    accessDenied: false,
    acs: null,
    flr: null,
    afFlr: null,
    ari: false,
    driver: null,
    lines: [],
  };
}

export function parseLspciVv(text: string): PciCapabilities[] {
  const out: PciCapabilities[] = [];
  let cur: PciCapabilities | undefined;
  let inDevCap = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/^\d+:(?=\s)/, '');
    const t = line.trim();
    if (t === '') continue;
    const dev = /^\S/.test(line) ? DEVICE_LINE.exec(t) : null;
    if (dev) {
      cur = blank(normalizePciAddress(dev[1]!));
      out.push(cur);
      inDevCap = false;
      continue;
    }
    if (!cur) {
      cur = blank(null);
      out.push(cur);
    }
    const keep = () => cur!.lines.push(t);
    if (/^Capabilities:\s*<access denied>/.test(t)) {
      cur.accessDenied = true;
      keep();
    } else if (/^Capabilities:.*\bExpress\b/.test(t)) {
      const m = /Express \(v\d\) ([A-Za-z ]+?)(?: \(|,|$)/.exec(t);
      cur.portType = m ? m[1]!.trim() : null;
      keep();
    } else if (/^Capabilities:.*Alternative Routing-ID Interpretation/.test(t)) {
      cur.ari = true;
      keep();
    } else if (/^ACSCap:/.test(t)) {
      cur.acs = { cap: flags(t.slice(7)), ctl: cur.acs?.ctl ?? {} };
      keep();
    } else if (/^ACSCtl:/.test(t)) {
      cur.acs = { cap: cur.acs?.cap ?? {}, ctl: flags(t.slice(7)) };
      keep();
    } else if (/^DevCap:/.test(t)) {
      inDevCap = true;
      cur.flr = /FLReset\+/.test(t) ? true : /FLReset-/.test(t) ? false : cur.flr;
      if (cur.flr === null) cur.flr = false;
      keep();
      continue;
    } else if (inDevCap && /FLReset[+-]/.test(t)) {
      cur.flr = /FLReset\+/.test(t);
      keep();
    } else if (/^AFCap:/.test(t)) {
      cur.afFlr = /FLR\+/.test(t);
      keep();
    } else if (/^Kernel driver in use:/.test(t)) {
      cur.driver = t.replace(/^Kernel driver in use:\s*/, '') || null;
    }
    inDevCap = false;
  }
  return out;
}
