import { describe, expect, it } from 'vitest';
import { closeCodeName, namedCode } from './closeCodes';

describe('close codes', () => {
  it('names the codes of RFC 6455', () => {
    expect(closeCodeName(1008)).toBe('policy violation');
    expect(closeCodeName(1012)).toBe('service restart');
  });

  it('knows the application range and admits what it does not know', () => {
    expect(closeCodeName(4401)).toBe('application code');
    expect(closeCodeName(1234)).toBe('unknown code');
  });

  it('puts the name beside the number', () => {
    expect(namedCode(1008)).toBe('1008 policy violation');
    expect(namedCode(4001)).toBe('4001 application code');
  });
});
