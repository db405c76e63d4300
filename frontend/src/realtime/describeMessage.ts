/** What the page's log shows for a received message. */
import { describeBytes } from './bytes';
import type { EventMessage, Incoming } from './codec';
import type { ChatMessage } from './messages';
import { CHAT_WORDS, notRecoveredText } from './recovery';

type SyncMessage = Extract<ChatMessage, { type: 'sync' }>;

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
      return describeSync(message, null).text;
    case 'server_stats':
      return `The server's numbers, from ${message.process}`;
  }
}

const missed = (count: number) => `${count} missed ${count === 1 ? 'message' : 'messages'}`;

/**
 * What the end of a catch-up means, counted in chat messages: those the page received before
 * the sync that it did not have yet (null: not counted). `joining`: the page's own number when
 * the sync ends the person's joining the room (not a return after a dropped connection).
 */
export function describeSync(
  sync: SyncMessage,
  messagesReceived: number | null,
  joining: number | null = null,
): { readonly text: string; readonly trouble: boolean } {
  if (!sync.recovered && sync.reason !== null && sync.reason !== 'first_join') {
    return { text: notRecoveredText(sync.reason, CHAT_WORDS), trouble: true };
  }
  const count = messagesReceived ?? 0;
  const joined =
    joining === null ? `Joined ${sync.room}` : `You joined ${sync.room} as #${joining}`;
  if (sync.recovered) {
    if (joining !== null) {
      const recovered = count === 0 ? 'nothing was missed' : `recovered ${missed(count)}`;
      return { text: `${joined}: ${recovered}.`, trouble: false };
    }
    const text =
      count === 0 ? 'Back in the room: nothing was missed.' : `Recovered ${missed(count)}.`;
    return { text, trouble: false };
  }
  const above =
    count === 0
      ? ''
      : count === 1
        ? ': the most recent message is above'
        : `: the ${count} most recent messages are above`;
  return { text: `${joined}${above}.`, trouble: false };
}
