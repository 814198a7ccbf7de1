import { describe, expect, it } from 'vitest';
import { sha256, stableJson } from '../../schema/hash.ts';

// Content hashes are stored with every raw record and chained into batch digests: the canonical JSON
// they are taken over must never change for the same content.

describe('stableJson', () => {
  it('when a flat row is written, then its keys are sorted by code unit and undefined members are left out', () => {
    const row = { 'Vintage End': '31/12/2010', '10': 'x', '9': 'y', Quantity: '100', B: null, a: undefined, 'é': 'ü', '': '' };
    expect(stableJson(row)).toBe('{"":"","10":"x","9":"y","B":null,"Quantity":"100","Vintage End":"31/12/2010","é":"ü"}');
  });

  it('when values nest, then every level is sorted and undefined in a list is null', () => {
    const value = { z: [3, undefined, { b: 2, a: [{ d: 1, c: null }] }], y: { x: 'q"uote' } };
    expect(stableJson(value)).toBe('{"y":{"x":"q\\"uote"},"z":[3,null,{"a":[{"c":null,"d":1}],"b":2}]}');
  });

  it('when a value is not a plain object, then it is written as its own members, as hashes stored before were', () => {
    expect(stableJson({ on: new Date(0) })).toBe('{"on":{}}');
    expect(stableJson(null)).toBe('null');
    expect(stableJson(undefined)).toBe('null');
  });

  it('when two rows hold the same content in another key order, then they hash the same', () => {
    expect(sha256(stableJson({ a: '1', b: { c: '2', d: '3' } }))).toBe(sha256(stableJson({ b: { d: '3', c: '2' }, a: '1' })));
    expect(sha256(stableJson({ a: '1' }))).toBe(sha256('{"a":"1"}'));
  });
});
