/**
 * The variables a task sees, as layers from lowest to highest precedence:
 *
 *   inventory (host + group vars, merged by the inventory loader)
 *   < play `vars` < block `vars` (outer to inner) < task `vars`
 *   < registered results and `set_fact` (per host, kept across plays of one run)
 *   < the loop variable (`item` or loop_control.loop_var)
 *   < extra vars (`-e KEY=VALUE`, always win, as in Ansible)
 *   < magic vars (inventory_hostname, groups, ansible_check_mode, ...: cannot be overridden)
 *
 * Operator-written layers (inventory, play, block, task, extra) may contain `{{ }}` and are templated when a
 * variable is read, in the full scope (so `a: "{{ b }}"` sees `b` from any layer). Registered results,
 * facts and loop items are data and are never templated again: a registered stdout holding `{{ x }}` stays
 * those characters.
 */
import type { SourcePosition } from '../core/config-error.js';

export type VarLayerKind = 'inventory' | 'play' | 'block' | 'task' | 'registered' | 'loop' | 'extra' | 'magic';

export interface VarLayer {
  kind: VarLayerKind;
  vars: Readonly<Record<string, unknown>>;
  /** Where these variables were written, for errors inside them. */
  position?: SourcePosition;
}

const templatedKinds: ReadonlySet<VarLayerKind> = new Set(['inventory', 'play', 'block', 'task', 'extra']);

/** Renders a raw operator-written value in a scope (supplied by template.ts, which depends on this file). */
export type ValueRenderer = (value: unknown, scope: VarScope, position: SourcePosition | undefined) => unknown;

export class VarScopeError extends Error {
  override readonly name = 'VarScopeError';
}

/** An immutable stack of variable layers. Lookups of templated layers are memoised per scope. */
export class VarScope {
  private readonly memo = new Map<string, unknown>();
  private readonly resolving = new Set<string>();

  constructor(
    readonly layers: readonly VarLayer[],
    private readonly renderer: ValueRenderer,
  ) {}

  /** A new scope with one more layer on top of its precedence class (layers stay sorted by kind). */
  with(layer: VarLayer): VarScope {
    const order: VarLayerKind[] = ['inventory', 'play', 'block', 'task', 'registered', 'loop', 'extra', 'magic'];
    const rank = order.indexOf(layer.kind);
    const idx = this.layers.findIndex((l) => order.indexOf(l.kind) > rank);
    const layers = idx < 0 ? [...this.layers, layer] : [...this.layers.slice(0, idx), layer, ...this.layers.slice(idx)];
    return new VarScope(layers, this.renderer);
  }

  /** The topmost layer defining `name`. */
  private find(name: string): VarLayer | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i]!;
      if (Object.hasOwn(layer.vars, name)) return layer;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /** Every defined name (for did-you-mean). */
  names(): string[] {
    return [...new Set(this.layers.flatMap((l) => Object.keys(l.vars)))];
  }

  /** The value of `name`, templated if an operator wrote it; undefined when no layer defines it. */
  lookup(name: string): unknown {
    const layer = this.find(name);
    if (!layer) return undefined;
    const raw = layer.vars[name];
    if (!templatedKinds.has(layer.kind)) return raw;
    if (this.memo.has(name)) return this.memo.get(name);
    if (this.resolving.has(name)) {
      throw new VarScopeError(`variable \`${name}\` refers to itself (${[...this.resolving, name].join(' -> ')})`);
    }
    this.resolving.add(name);
    try {
      const value = this.renderer(raw, this, layer.position);
      this.memo.set(name, value);
      return value;
    } finally {
      this.resolving.delete(name);
    }
  }

  /**
   * All variables as a read-only object that resolves each one when read (for `vars`, debug and
   * ModuleContext.vars): one broken variable does not break the others until it is used.
   */
  view(): Readonly<Record<string, unknown>> {
    return new Proxy({} as Record<string, unknown>, {
      get: (_t, key) => (typeof key === 'string' ? this.lookup(key) : undefined),
      has: (_t, key) => typeof key === 'string' && this.has(key),
      ownKeys: () => this.names(),
      getOwnPropertyDescriptor: (_t, key) =>
        typeof key === 'string' && this.has(key)
          ? { enumerable: true, configurable: true, value: this.lookup(key) }
          : undefined,
      set: () => false,
      deleteProperty: () => false,
    });
  }
}
