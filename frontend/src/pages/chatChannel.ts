/**
 * The chat on the tab's one connection: a room is the channel `chat:{room}`, followed as a
 * member (the client number, as a string), and its generic channel events read as the chat's
 * own messages (the shapes of WS /ws/{client_id}'s JSON), so that the page words them as the
 * guide does.
 */
import type { ChatMessage } from '../realtime/messages';
import type { ChannelEvent, ChannelSync, Presence } from '../realtime/RealtimeConnection';

export const chatChannel = (room: string) => `chat:${room}`;

/** A member's number; 0 for a sender that is not one (a service publishing to the room). */
export function clientIdOf(sender: string | null): number {
  return sender !== null && /^\d{1,16}$/.test(sender) && Number.isSafeInteger(Number(sender))
    ? Number(sender)
    : 0;
}

/** The chat's message for a channel event: said, joined or left; null for anything else. */
export function chatMessageOf(event: ChannelEvent, room: string): ChatMessage | null {
  const fields = {
    room,
    client_id: clientIdOf(event.sender),
    at: event.at,
    epoch: event.epoch,
    offset: event.offset,
  };
  switch (event.kind) {
    case 'published': {
      const { text } = event.data as { text?: unknown };
      if (typeof text !== 'string') return null;
      return { ...fields, type: 'chat', text, message_id: event.message_id };
    }
    case 'joined':
      return { ...fields, type: 'joined' };
    case 'left':
      return { ...fields, type: 'left' };
  }
}

export function chatSyncOf(
  sync: ChannelSync,
  room: string,
): Extract<ChatMessage, { type: 'sync' }> {
  const { epoch, offset, recovered, reason, replayed } = sync;
  return { type: 'sync', room, epoch, offset, recovered, reason, replayed };
}

export function chatPresenceOf(
  presence: Presence,
  room: string,
): Extract<ChatMessage, { type: 'presence' }> {
  return {
    type: 'presence',
    room,
    online: presence.online.map(clientIdOf),
    complete: presence.complete,
  };
}
