import { describe, expect, it } from 'vitest';
import { describeBytes, parseHex } from './bytes';

describe('parseHex', () => {
  it('reads pairs of hex digits with or without separators', () => {
    expect(parseHex('48 65 6c 6C 6f')).toEqual(new Uint8Array([0x48, 0x65, 0x6c, 0x6c, 0x6f]));
    expect(parseHex('0x00:ff,10')).toEqual(new Uint8Array([0, 255, 16]));
  });

  it('explains what is wrong instead of guessing', () => {
    expect(parseHex('')).toEqual({ error: 'Type some bytes in hex, for example 48 65 6c 6c 6f.' });
    expect(parseHex('zz')).toEqual({ error: 'Only hex digits 0-9 and a-f, please.' });
    expect(parseHex('abc')).toEqual({ error: 'Hex bytes come in pairs of digits.' });
  });
});

describe('describeBytes', () => {
  it('gives the size and the first bytes', () => {
    expect(describeBytes(new Uint8Array([0, 1]).buffer)).toBe('2 bytes: 00 01');
    expect(describeBytes(new Uint8Array([7]).buffer)).toBe('1 byte: 07');
    expect(describeBytes(new ArrayBuffer(0))).toBe('0 bytes');
    expect(describeBytes(new Uint8Array(2000).buffer, 2)).toBe('2,000 bytes: 00 00 …');
  });
});
