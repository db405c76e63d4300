import { describe, expect, it } from 'vitest';
import { closeCodeName, describeClose } from './closeCodes';

describe('close codes', () => {
  it('names the codes of RFC 6455', () => {
    expect(closeCodeName(1008)).toBe('policy violation');
    expect(closeCodeName(1012)).toBe('service restart');
  });

  it('knows the application range and admits what it does not know', () => {
    expect(closeCodeName(4401)).toBe('application code');
    expect(closeCodeName(1234)).toBe('unknown code');
  });

  it('describes a close with its reason', () => {
    expect(describeClose(1008, 'missing credentials')).toBe(
      '1008 policy violation: missing credentials',
    );
    expect(describeClose(1000, '')).toBe('1000 normal closure');
  });

  it('explains a 1006, which never carries a reason', () => {
    expect(describeClose(1006, '')).toBe('1006 abnormal closure: the connection failed or was cut');
  });
});
