// The stable error codes of one layer, as its list in src declares them, and the ones a test file
// provoked: each code a test sees is checked against the list as it comes, and `unseen()` names
// those of the list that no test of the file provoked.
import { expect } from 'vitest';

export class DeclaredCodes<T extends string> {
  private readonly seen = new Set<string>();

  constructor(
    readonly name: string,
    readonly list: readonly T[],
  ) {}

  /** `code`, checked to be one of the list, and noted as provoked. */
  see(code: unknown): T {
    expect(this.list as readonly unknown[], `'${String(code)}' is not one of ${this.name}`).toContain(code);
    this.seen.add(code as string);
    return code as T;
  }

  /** The codes of the list that were not seen. */
  unseen(): T[] {
    return this.list.filter((c) => !this.seen.has(c));
  }
}
