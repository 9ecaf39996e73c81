/**
 * The TypeScript type a JSON Schema (written `as const`) describes, for the subset rollgate's schemas use:
 * `type` (one or a list), `enum`, `const`, `items`, `properties` with `required`, `additionalProperties`,
 * `oneOf` / `anyOf`. A property with a `default` is still optional: the type describes what a user may write.
 * Module options (`ModuleArgs`) and host variables are typed through it, so a schema and its type cannot drift.
 */

type Primitive<T> = T extends 'string'
  ? string
  : T extends 'integer' | 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? unknown[]
          : T extends 'object'
            ? Record<string, unknown>
            : unknown;

type RequiredKeys<S> = S extends { required: readonly (infer K)[] } ? K : never;

type Flatten<T> = { [K in keyof T]: T[K] } & {};

type ObjectOf<S> = S extends { properties: infer P }
  ? Flatten<
      { -readonly [K in keyof P & RequiredKeys<S>]: SchemaType<P[K]> } & {
        -readonly [K in Exclude<keyof P, RequiredKeys<S>>]?: SchemaType<P[K]>;
      } & (S extends { additionalProperties: false } ? unknown : Record<string, unknown>)
    >
  : S extends { additionalProperties: infer A }
    ? Record<string, SchemaType<A>>
    : Record<string, unknown>;

/** The value type of schema `S`. */
export type SchemaType<S> = S extends { enum: readonly (infer E)[] }
  ? E
  : S extends { const: infer C }
    ? C
    : S extends { type: 'object' }
      ? ObjectOf<S>
      : S extends { type: 'array'; items: infer I }
        ? SchemaType<I>[]
        : S extends { type: readonly (infer T)[] }
          ? Primitive<T>
          : S extends { type: infer T }
            ? Primitive<T>
            : S extends { oneOf: readonly (infer A)[] }
              ? SchemaType<A>
              : S extends { anyOf: readonly (infer A)[] }
                ? SchemaType<A>
                : unknown;
