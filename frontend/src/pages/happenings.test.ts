import { describe, expect, it } from 'vitest';
import { describeDisconnect, describeRefusal } from './happenings';

describe('describeRefusal', () => {
  it.each([
    ['host', 'host: a host name this server does not answer to'],
    ['origin', 'origin: a page on another site'],
    ['credentials', 'credentials: no credential, or one that was not accepted'],
    ['invalid_request', 'invalid_request: a path or query the endpoint does not take'],
    ['connection_cap', 'connection_cap: the server was at its connection limit'],
    ['request_head', 'request_head: a request head that came too slowly or was too large'],
    ['policy', 'policy: refused by policy'],
  ])('says what %s means', (reason, words) => {
    expect(describeRefusal(reason)).toBe(words);
  });

  it('shows a reason it does not know readably, as the server named it', () => {
    expect(describeRefusal('too_many_tickets')).toBe('too many tickets');
  });
});

describe('describeDisconnect', () => {
  it('names the code and the side, as the other pages name codes', () => {
    expect(describeDisconnect('1001 by client')).toBe('1001 going away, closed by the client');
    expect(describeDisconnect('1013 by server')).toBe('1013 try again later, closed by the server');
    expect(describeDisconnect('other by client')).toBe(
      'a code outside the registry, closed by the client',
    );
  });

  it('leaves what it cannot read as it is', () => {
    expect(describeDisconnect('dropped for slowness')).toBe('dropped for slowness');
  });
});
