/**
 * Name lists and the constants that index them, from one declaration: a list is an `as const`
 * array of the names users see, and `indexOf(list)` makes the object of its indices, keyed by each
 * name written as an identifier ('syn-ack' → SYN_ACK), with every value a literal type the compiler
 * checks (S.TIME_WAIT is 10 because TCP_STATES[10] is 'TIME_WAIT'). The objects are frozen, so
 * V8 folds their loads into constants in optimized code. A null entry (a field's "none") has no key.
 */

/** A name as an identifier: upper case, '-' as '_'. */
export type Ident<N extends string> = N extends `${infer A}-${infer B}` ? Ident<`${A}_${B}`> : Uppercase<N>;

/** The index object of a name list. */
export type IndexOf<L extends readonly (string | null)[]> = {
  readonly [I in keyof L as I extends `${number}` ? (L[I] extends string ? Ident<L[I]> : never) : never]:
    I extends `${infer N extends number}` ? N : never;
};

/** The values of an index object, as a type (e.g. the type of an endpoint state). */
export type ValueOf<T> = T[keyof T];

export function indexOf<const L extends readonly (string | null)[]>(list: L): IndexOf<L> {
  const o: Record<string, number> = {};
  list.forEach((n, i) => {
    if (n !== null) o[n.toUpperCase().replace(/-/g, '_')] = i;
  });
  return Object.freeze(o) as IndexOf<L>;
}
