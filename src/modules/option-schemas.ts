/** JSON Schema fragments several modules' options share (written `as const`, so their types are derived). */

export const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

export const pciId = {
  type: 'string',
  pattern: '^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$',
  description: 'vendor:device, e.g. 10de:1e87',
} as const;
