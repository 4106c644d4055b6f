// dns-packet's type and class name tables, modules of their own that its typings leave out.

declare module 'dns-packet/types.js' {
  /** The code of a type name; UNKNOWN_n gives n, anything else unknown 0. */
  export function toType(name: string): number;
  export function toString(type: number): string;
}

declare module 'dns-packet/classes.js' {
  /** The code of a class name (IN, CS, CH, HS, ANY); 0 for anything else. */
  export function toClass(name: string): number;
  export function toString(klass: number): string;
}
