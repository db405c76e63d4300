import { type Ref, useState } from 'react';
import type { PageConversation } from '../hooks/useConversation';
import { useServerConfig } from '../hooks/useServerConfig';
import { canSend, whyNotSent } from '../realtime/connectionState';
import { ConnectionBar } from './ConnectionBar';
import { MessageComposer } from './MessageComposer';
import { type DeliveryText, MessageLogView } from './MessageLogView';

interface ConversationProps {
  readonly conversation: PageConversation;
  readonly showActions?: boolean;
  readonly deliveryText?: DeliveryText;
  /** Told the id of each message the person sends. */
  readonly onSent?: (id: string) => void;
  /** What to do to send, said when a message cannot go out ("Connect first"). */
  readonly connectHint?: string;
  readonly inputRef?: Ref<HTMLInputElement>;
}

/** A connection's state, its log and the box to write in: what every page of the app shows. */
export function Conversation({
  conversation,
  showActions = true,
  deliveryText,
  onSent,
  connectHint = 'Press Connect, then send it again: it is still in the box.',
  inputRef,
}: ConversationProps) {
  const { connection, log, add, update, clear } = conversation;
  const config = useServerConfig();
  const [sendError, setSendError] = useState('');

  const onSend = (text: string) => {
    const { result, id } = connection.send(text);
    if (result === 'sent' || result === 'queued') {
      onSent?.(id);
      add('sent', text, { messageId: id });
      setSendError('');
      return true;
    }
    setSendError(
      result === 'full'
        ? `${connection.waiting.length + connection.inFlight.length} messages are still waiting for an answer: this one was not sent. It is still in the box.`
        : `Not sent: ${whyNotSent(connection.state)}. ${connectHint}`,
    );
    return false;
  };

  return (
    <>
      <ConnectionBar connection={connection} add={add} update={update} showActions={showActions} />
      <MessageLogView
        log={log}
        onClear={clear}
        connection={connection}
        {...(deliveryText === undefined ? {} : { deliveryText })}
      />
      <MessageComposer
        canSend={canSend(connection.state)}
        queueing={connection.state.status !== 'open'}
        maxLength={config?.maxTextLength}
        onSend={onSend}
        error={sendError}
        {...(inputRef === undefined ? {} : { inputRef })}
      />
    </>
  );
}
