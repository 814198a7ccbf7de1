import { createHash } from 'node:crypto';

// The ledger's hashes (DESIGN §3): a raw record's content hash, a batch's records digest and the chain
// of batch digests are SHA-256 over canonical JSON, so the same content always hashes the same.

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * JSON with object keys sorted at every level: the same content always hashes the same. Keys sort by
 * UTF-16 code units (`Array.prototype.sort`'s default order); undefined members are left out, and
 * undefined or null values elsewhere are `null`. It runs on every raw record.
 */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) out += (i === 0 ? '' : ',') + stableJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  // A flat plain record (a row of a file, most raw records) is written by JSON.stringify itself, which
  // takes the keys in the order of the list it is given. (Any other object, a Date say, is written as its
  // own members, as it always has been: a hash once stored must not change.)
  if (Object.getPrototypeOf(record) === Object.prototype && keys.every((key) => record[key] === null || typeof record[key] !== 'object')) {
    return JSON.stringify(record, keys);
  }
  let out = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${stableJson(member)}`;
  }
  return `${out}}`;
}
