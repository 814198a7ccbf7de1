import { describe, expect, it } from 'vitest';
import { tokenizationMarker } from '../../connectors/runtime/row.ts';

// The bridge named in retirement details (integrity rule 6), and the words that only look like one.

describe('tokenization markers', () => {
  it('when retirement details name a bridge, then the marker is the bridge', () => {
    expect(tokenizationMarker(undefined, 'TOUCAN PROTOCOL: Beneficiary: Toucan Protocol')).toBe('TOUCAN');
    expect(tokenizationMarker('C3T', 'Bridged to C3 (Polygon)')).toBe('C3T');
    expect(tokenizationMarker('MOSS.Earth', undefined)).toBe('MOSS');
    expect(tokenizationMarker(undefined, 'Retired for MCO2 token backing')).toBe('MOSS');
    // Puro's retirement purpose as written (test/fixtures/api-captures/puro-retirements.html).
    expect(tokenizationMarker(undefined, 'Thallo Two-Way Bridge Retirement')).toBe('THALLO');
  });

  it('when Moss is a name or a place, or nothing names a bridge, then there is no marker', () => {
    expect(tokenizationMarker('Moss Landing Power Plant', 'Offsetting 2021 emissions')).toBeUndefined();
    expect(tokenizationMarker('Kate Moss', undefined)).toBeUndefined();
    expect(tokenizationMarker('Tokyo Gas', 'retired on behalf of customers')).toBeUndefined();
  });
});
