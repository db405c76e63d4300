/** What the page's log shows for a received message. */
import { describeBytes } from './bytes';
import type { EventMessage, Incoming } from './codec';

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
  }
}
