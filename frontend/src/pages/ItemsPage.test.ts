import { describe, expect, it } from 'vitest';
import { itemsSocketUrl } from './ItemsPage';

const page = { protocol: 'http:', host: 'localhost:8000' };

describe('itemsSocketUrl', () => {
  it('sends the token in the query when the token is chosen', () => {
    const form = {
      itemId: '2',
      credentialKind: 'token',
      credential: 'some-token',
      q: '3',
    } as const;
    expect(itemsSocketUrl(form, page)).toBe('ws://localhost:8000/items/2/ws?q=3&token=some-token');
  });

  it('leaves the token out when the cookie carries the credential', () => {
    const form = { itemId: 'foo', credentialKind: 'cookie', credential: 'fake', q: '' } as const;
    expect(itemsSocketUrl(form, page)).toBe('ws://localhost:8000/items/foo/ws');
  });

  it('keeps an item ID with slashes or spaces in one path segment', () => {
    const form = { itemId: 'a/b c', credentialKind: 'token', credential: 't', q: '' } as const;
    expect(itemsSocketUrl(form, page)).toBe('ws://localhost:8000/items/a%2Fb%20c/ws?token=t');
  });
});
