import { useMessageLog } from '../log/messageLog';
import { answerTo, type Incoming } from '../realtime/codec';
import { describeIncoming } from '../realtime/describeMessage';
import type { ConnectionOptions } from '../realtime/ReconnectingSocket';
import { useConnection } from '../realtime/useConnection';

export interface ConversationOptions {
  readonly url: ConnectionOptions['url'];
  readonly connectOnMount?: boolean;
  /** A page's own handling of a message; true when it logged it itself. */
  readonly onIncoming?: (incoming: Incoming) => boolean;
}

/**
 * A page's connection and its log, as every page has them: each message received is logged
 * (unless the page handles it), and each reply marks the message it answers.
 */
export function useConversation({ url, connectOnMount = false, onIncoming }: ConversationOptions) {
  const messageLog = useMessageLog();
  const connection = useConnection({
    url,
    connectOnMount,
    onMessage: (incoming) => {
      const replyTo = answerTo(incoming);
      if (replyTo !== null) messageLog.markAnswered(replyTo);
      if (onIncoming?.(incoming)) return;
      messageLog.add(incoming.kind === 'error' ? 'error' : 'received', describeIncoming(incoming));
    },
  });
  return { connection, ...messageLog };
}

export type PageConversation = ReturnType<typeof useConversation>;
