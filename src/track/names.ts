/**
 * Name lists and the constants that index them, from one declaration: a list is an `as const`
 * array of the names users see, and its constants are a `const enum` keyed by each name written as
 * an identifier ('syn-ack' → SYN_ACK), which the compiler writes in place at each use. Beside each
 * enum, one line stops compiling when the enum and its list drift apart (`Mirrors`): a name
 * missing on either side, or a value that is not the name's index in the list. A null entry (a
 * field's "none") has no key.
 *
 * (Frozen objects made from the lists at run time served before: every use in the packet path then
 * cost a property load and a map check, 155 instructions a segment on the bench capture.)
 */

/** A name as an identifier: upper case, '-' as '_'. */
export type Ident<N extends string> = N extends `${infer A}-${infer B}` ? Ident<`${A}_${B}`> : Uppercase<N>;

/** The indices of a name list, keyed by each name as an identifier. */
export type IndexOf<L extends readonly (string | null)[]> = {
  readonly [I in keyof L as I extends `${number}` ? (L[I] extends string ? Ident<L[I]> : never) : never]:
    I extends `${infer N extends number}` ? N : never;
};

/**
 * true when enum E (as `typeof E`) names exactly the entries of list L, as identifiers, each with
 * its index in L; false otherwise.
 */
export type Mirrors<E, L extends readonly (string | null)[]> =
  [keyof E] extends [keyof IndexOf<L>] ?
    [keyof IndexOf<L>] extends [keyof E] ?
      false extends {
        [K in keyof IndexOf<L>]: K extends keyof E ? (`${E[K] & number}` extends `${IndexOf<L>[K] & number}` ? true : false) : false;
      }[keyof IndexOf<L>] ? false : true :
      false :
    false;
