import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
// Generated from the backend's models by `python -m app.protocol`;
// backend/tests/conversation/test_messages.py keeps it current.
import schema from '../../../docs/protocol.schema.json';
import {
  type ChannelServerMessage,
  type ClientMessage,
  decodeServerMessage,
  ERROR_CODES,
  encodeClientMessage,
  isChannelMessage,
  type ServerMessage,
} from './messages';

// A sample of every variant: TypeScript refuses this object if a variant is missing or wrong.
const clientSamples: { [Type in ClientMessage['type']]: Extract<ClientMessage, { type: Type }> } = {
  text: { type: 'text', id: 'm1', text: 'Hello' },
  ping: { type: 'ping', id: 'p1', sent_at: 1732440000000.5 },
  subscribe: { type: 'subscribe', id: 's1', channel: 'chat:general', since: null, member: '7' },
  unsubscribe: { type: 'unsubscribe', id: 'u1', channel: 'chat:general' },
  publish: { type: 'publish', id: 'm2', channel: 'chat:general', data: { text: 'Hi' } },
};

const event = { room: 'general', client_id: 7, at: 1732440000000.5, epoch: '3f9a1c2b', offset: 42 };

const serverSamples: { [Type in ServerMessage['type']]: Extract<ServerMessage, { type: Type }> } = {
  welcome: { type: 'welcome', connection_id: '1a2b3c4d', sender_key: 'Zm9yIHRoZSB0ZXN0cw' },
  text: { type: 'text', text: 'Message text was: Hello', reply_to: 'm1' },
  pong: { type: 'pong', id: 'p1', sent_at: 1732440000000.5 },
  error: { type: 'error', code: 'invalid_json', detail: 'not valid JSON', reply_to: null },
  chat: { ...event, type: 'chat', text: 'Hello', message_id: 'a1b2c3-1' },
  joined: { ...event, type: 'joined' },
  left: { ...event, type: 'left' },
  ack: { type: 'ack', reply_to: 'a1b2c3-1', room: 'general', epoch: '3f9a1c2b', offset: 42 },
  sync: {
    type: 'sync',
    room: 'general',
    epoch: '3f9a1c2b',
    offset: 42,
    recovered: false,
    reason: 'epoch_changed',
    replayed: 3,
  },
  presence: { type: 'presence', room: 'general', online: [7, 8], complete: true },
  server_stats: {
    type: 'server_stats',
    process: 'host/42',
    endpoints: [{ endpoint: '/ws', open: 2, received_per_second: 10.5, sent_per_second: 10.5 }],
    broker: { kind: 'memory', connected: true },
    disconnects: [{ at: 1732440000.5, endpoint: '/ws', what: '1000 by client' }],
    refusals: [{ at: 1732440000.5, endpoint: '/ws', what: 'origin' }],
  },
};

const position = { epoch: '3f9a1c2b', offset: 42 };
const channelSamples: {
  [Type in ChannelServerMessage['type']]: Extract<ChannelServerMessage, { type: Type }>;
} = {
  subscribed: { type: 'subscribed', reply_to: 's1', channel: 'chat:general' },
  unsubscribed: { type: 'unsubscribed', reply_to: 'u1', channel: 'chat:general' },
  event: {
    ...position,
    type: 'event',
    channel: 'user:alice',
    at: 1732440000000.5,
    kind: 'published',
    sender: 'bob',
    message_id: null,
    data: { sender: 'bob', text: 'Lunch?' },
  },
  sync: {
    ...position,
    type: 'sync',
    channel: 'chat:general',
    recovered: true,
    reason: null,
    replayed: 3,
  },
  presence: { type: 'presence', channel: 'chat:general', online: ['7', '8'], complete: true },
  ack: { ...position, type: 'ack', reply_to: 'm2', channel: 'chat:general' },
};

const ajv = new Ajv2020();
// Pydantic adds OpenAPI's `discriminator` beside `oneOf`; the `oneOf` is what validates.
ajv.addKeyword('discriminator');
const validClientMessage = ajv.compile(schema.client_to_server);
const validServerMessage = ajv.compile(schema.server_to_client);

/** The message types among the schema's definitions (others are parts of messages). */
function typesIn(definitions: Record<string, { properties?: object }>) {
  const types = Object.values(definitions).flatMap(({ properties }) =>
    properties !== undefined && 'type' in properties
      ? [(properties.type as { const: string }).const]
      : [],
  );
  return [...new Set(types)].sort();
}

describe('realtime.json.v1 in TypeScript and in the schema', () => {
  it('has the same message types on both sides', () => {
    expect(Object.keys(clientSamples).sort()).toEqual(typesIn(schema.client_to_server.$defs));
    const server = new Set([...Object.keys(serverSamples), ...Object.keys(channelSamples)]);
    expect([...server].sort()).toEqual(typesIn(schema.server_to_client.$defs));
  });

  it('has the same error codes on both sides', () => {
    expect([...ERROR_CODES].sort()).toEqual(
      [...schema.server_to_client.$defs.Error.properties.code.enum].sort(),
    );
  });

  it.each(Object.values(clientSamples))('accepts the client message %j', (message) => {
    expect(validClientMessage(JSON.parse(encodeClientMessage(message)))).toBe(true);
  });

  it.each([
    ...Object.values(serverSamples),
    ...Object.values(channelSamples),
    ...ERROR_CODES.map((code) => ({ ...serverSamples.error, code })),
  ])('accepts the server message %j', (message) => {
    expect(validServerMessage(message)).toBe(true);
  });

  it('is a schema that refuses something', () => {
    expect(validClientMessage({ type: 'text', id: 'm1' })).toBe(false);
    expect(validClientMessage({ type: 'shout', id: 'm1' })).toBe(false);
    expect(validServerMessage({ type: 'pong', id: 'p1' })).toBe(false);
  });
});

describe('decodeServerMessage', () => {
  it('reads each server message', () => {
    for (const message of Object.values(serverSamples)) {
      expect(decodeServerMessage(JSON.stringify(message))).toEqual(message);
    }
  });

  it('reads each message of a channel, which names its channel', () => {
    for (const message of Object.values(channelSamples)) {
      const decoded = decodeServerMessage(JSON.stringify(message));
      expect(decoded).toEqual(message);
      expect(decoded !== null && isChannelMessage(decoded)).toBe(true);
    }
    expect(isChannelMessage(serverSamples.sync)).toBe(false);
    expect(decodeServerMessage('{"type": "chat", "channel": "chat:general"}')).toBeNull();
  });

  it('returns null for what is not one, without throwing', () => {
    expect(decodeServerMessage('{not json')).toBeNull();
    expect(decodeServerMessage('[1]')).toBeNull();
    expect(decodeServerMessage('{"type": "surprise"}')).toBeNull();
  });
});
