import { describe, expect, it } from 'vitest';
import { formProblem, itemsSocketUrl } from './ItemsPage';

const page = { protocol: 'http:', host: 'localhost:8000' };

describe('itemsSocketUrl', () => {
  it('carries a ticket, never the token itself', () => {
    const form = {
      itemId: '2',
      credentialKind: 'token',
      credential: 'some-token',
      q: '3',
    } as const;
    expect(itemsSocketUrl(form, 'T1', page)).toBe('ws://localhost:8000/items/2/ws?q=3&ticket=T1');
  });

  it('keeps an item ID with spaces and question marks in one path segment', () => {
    const form = { itemId: 'a b?', credentialKind: 'token', credential: 't', q: '' } as const;
    expect(itemsSocketUrl(form, 'T2', page)).toBe(
      'ws://localhost:8000/items/a%20b%3F/ws?ticket=T2',
    );
  });

  it('opens the socket without any credential when there is none to trade', () => {
    const form = { itemId: '2', credentialKind: 'token', credential: '', q: '' } as const;
    expect(itemsSocketUrl(form, undefined, page)).toBe('ws://localhost:8000/items/2/ws');
  });
});

describe('formProblem', () => {
  const form = { itemId: 'foo', credentialKind: 'token', credential: 't', q: '' } as const;

  it('takes what the server takes', () => {
    expect(formProblem(form)).toBeNull();
    expect(formProblem({ ...form, q: '-12' })).toBeNull();
    expect(formProblem({ ...form, itemId: 'a b?#' })).toBeNull();
    expect(formProblem({ ...form, credential: '' })).toBeNull(); // to see the server refuse
    expect(
      formProblem({ ...form, credentialKind: 'cookie', credential: 'a!#$%&+-.:<=>?@[]^_`{|}~' }),
    ).toBeNull();
  });

  it.each([
    [{ itemId: '' }, 'item-id', 'Give an item ID.'],
    [{ itemId: 'a/b c?' }, 'item-id', 'An item ID cannot contain a slash (/).'],
    [{ itemId: '..' }, 'item-id', 'An item ID cannot be . or .. alone.'],
    [{ q: 'abc' }, 'q', 'q must be a whole number, such as 3 or -12, or left empty.'],
    [{ q: '1.5' }, 'q', 'q must be a whole number, such as 3 or -12, or left empty.'],
    [{ credentialKind: 'cookie', credential: '' }, 'credential', 'Give a value for the cookie.'],
  ] as const)('refuses %j in its own words', (change, field, message) => {
    expect(formProblem({ ...form, ...change })).toEqual({ field, message });
  });

  it.each(['two words', 'a;b', 'a,b', 'say "hi"', 'a\\b', 'é'])(
    'refuses the cookie value %j, naming what a cookie takes',
    (credential) => {
      expect(formProblem({ ...form, credentialKind: 'cookie', credential })?.message).toBe(
        'A cookie value takes letters, digits and punctuation only: no spaces, quotes, commas, semicolons or backslashes.',
      );
    },
  );
});
