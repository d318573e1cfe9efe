import { CocoFormatError } from './errors.js';

/** Field readers that throw a CocoFormatError naming `where` and the field. */
export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function fieldNumber(record: Json, field: string, where: string): number {
  const value = record[field];
  if (value === undefined) throw new CocoFormatError(where, `missing field "${field}"`);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new CocoFormatError(where, `field "${field}" must be a finite number, got ${describe(value)}`);
  }
  return value;
}

export function fieldInteger(record: Json, field: string, where: string): number {
  const value = fieldNumber(record, field, where);
  if (!Number.isInteger(value))
    throw new CocoFormatError(where, `field "${field}" must be an integer, got ${value}`);
  return value;
}

export function fieldSize(record: Json, field: string, where: string): number {
  const value = fieldInteger(record, field, where);
  if (value < 0) throw new CocoFormatError(where, `field "${field}" must not be negative, got ${value}`);
  return value;
}

export function fieldArray(record: Json, field: string, where: string): unknown[] {
  const value = record[field];
  if (value === undefined) throw new CocoFormatError(where, `missing field "${field}"`);
  if (!Array.isArray(value))
    throw new CocoFormatError(where, `field "${field}" must be an array, got ${describe(value)}`);
  return value;
}

/** A box [x, y, width, height] of finite numbers with non-negative width and height. */
export function fieldBox(record: Json, field: string, where: string): [number, number, number, number] {
  const value = fieldArray(record, field, where);
  if (value.length !== 4 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new CocoFormatError(where, `field "${field}" must be [x, y, width, height] of 4 finite numbers`);
  }
  const box = value as [number, number, number, number];
  if (box[2] < 0 || box[3] < 0) {
    throw new CocoFormatError(where, `field "${field}" has a negative width or height: [${box.join(', ')}]`);
  }
  return box;
}
