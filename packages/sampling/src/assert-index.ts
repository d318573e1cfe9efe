/** Throws a RangeError naming `name` unless `value` is a non-negative safe integer (a seed or batch index). */
export function assertIndex(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`sampling: ${name} must be a non-negative integer, got ${value}`);
  }
}
