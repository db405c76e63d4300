import { describe, expect, it } from 'vitest';
import { itemsSocketUrl } from './ItemsPage';

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

  it('keeps an item ID with slashes or spaces in one path segment', () => {
    const form = { itemId: 'a/b c', credentialKind: 'token', credential: 't', q: '' } as const;
    expect(itemsSocketUrl(form, 'T2', page)).toBe(
      'ws://localhost:8000/items/a%2Fb%20c/ws?ticket=T2',
    );
  });
});
