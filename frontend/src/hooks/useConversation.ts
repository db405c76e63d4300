import { answerTo, type Incoming } from '../realtime/codec';
import { describeIncoming } from '../realtime/describeMessage';
import type { ConnectionOptions } from '../realtime/ReconnectingSocket';
import { useConnection } from './useConnection';
import { useMessageLog } from './useMessageLog';

export interface ConversationOptions
  extends Pick<ConnectionOptions, 'url' | 'onWelcome' | 'answersBinaryInOrder'> {
  readonly connectOnMount?: boolean;
  /** A page's own handling of a message; true when it logged it itself. */
  readonly onIncoming?: (incoming: Incoming) => boolean;
}

/**
 * A page's connection and its log, as every page has them: each message received is logged
 * (unless the page handles it), and each reply marks the message it answers.
 */
export function useConversation({
  onIncoming,
  connectOnMount = false,
  ...options
}: ConversationOptions) {
  const messageLog = useMessageLog();
  const connection = useConnection({
    ...options,
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
