/** What the page's log shows for a received message. */
import { describeBytes } from './bytes';
import type { EventMessage, Incoming } from './codec';
import type { NotRecoveredReason } from './messages';

/** Why the page cannot be sure it has every message of a room. */
export const NOT_RECOVERED: Readonly<Record<Exclude<NotRecoveredReason, 'first_join'>, string>> = {
  epoch_changed:
    "Some messages may be missing: the room's history was lost (the server restarted without Redis).",
  too_far_behind:
    'Some messages may be missing: more was said while you were away than the room keeps.',
  expired: 'Some messages may be missing: you were away longer than the room keeps its history.',
  unavailable:
    "Some messages may be missing: the room's history cannot be read right now. It follows once the server can.",
};

export function describeIncoming(message: Incoming): string {
  switch (message.kind) {
    case 'text':
      return message.text;
    case 'binary':
      return describeBytes(message.data);
    case 'error':
      return `The server could not take a message: ${message.detail}`;
    case 'event':
      return describeEvent(message.message);
    case 'channel':
      return `${message.message.type} on ${message.message.channel}`;
  }
}

/** A chat room's event as a log line, in the guide's words where it has words for it. */
export function describeEvent(message: EventMessage): string {
  switch (message.type) {
    case 'chat':
      return message.text;
    case 'joined':
      return `Client #${message.client_id} joined the chat`;
    case 'left':
      return `Client #${message.client_id} left the chat`;
    case 'presence':
      return `Online: ${message.online.map((id) => `#${id}`).join(', ') || 'nobody'}`;
    case 'ack':
      return `The room holds your message (#${message.offset})`;
    case 'sync':
      if (message.recovered) {
        return message.replayed === 0
          ? 'Back in the room: nothing was missed.'
          : `Recovered ${message.replayed} missed ${message.replayed === 1 ? 'event' : 'events'}.`;
      }
      return message.reason === null || message.reason === 'first_join'
        ? `Joined ${message.room}: the ${message.replayed} most recent events are above.`
        : NOT_RECOVERED[message.reason];
    case 'server_stats':
      return `The server's numbers, from ${message.process}`;
  }
}
