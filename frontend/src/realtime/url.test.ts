import { describe, expect, it } from 'vitest';
import { webSocketUrl } from './url';

describe('webSocketUrl', () => {
  it('uses ws: and the page host on an http page', () => {
    expect(webSocketUrl('/ws', {}, { protocol: 'http:', host: '127.0.0.1:8000' })).toBe(
      'ws://127.0.0.1:8000/ws',
    );
  });

  it('uses wss: on an https page, keeping a non-default port', () => {
    expect(webSocketUrl('/ws', {}, { protocol: 'https:', host: 'example.com:8443' })).toBe(
      'wss://example.com:8443/ws',
    );
  });

  it('encodes the query and leaves out undefined values', () => {
    const url = webSocketUrl(
      '/items/foo/ws',
      { q: '3', token: 'a b&c=d', missing: undefined },
      { protocol: 'http:', host: 'localhost:5173' },
    );
    expect(url).toBe('ws://localhost:5173/items/foo/ws?q=3&token=a+b%26c%3Dd');
  });

  it('reads window.location by default', () => {
    expect(webSocketUrl('/ws')).toBe(`ws://${window.location.host}/ws`);
  });
});
