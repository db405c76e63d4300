import { useState } from 'react';
import type { LogDetails, LogKind, MessageLog } from '../log/messageLog';
import type { Connection } from '../realtime/useConnection';
import { ConnectionBar } from './ConnectionBar';
import { MessageComposer } from './MessageComposer';
import { MessageLogView } from './MessageLogView';

interface ConversationProps {
  readonly connection: Connection;
  readonly log: MessageLog;
  readonly add: (kind: LogKind, text: string, details?: LogDetails) => void;
  readonly clear: () => void;
  readonly showActions?: boolean;
}

/** Whether a message written now will go out: at once, or when the connection is back. */
export function canSend({ state }: Pick<Connection, 'state'>): boolean {
  return state.status === 'open' || state.status === 'connecting' || state.status === 'waiting';
}

/** A connection's state, its log and the box to write in: what every page of the app shows. */
export function Conversation({
  connection,
  log,
  add,
  clear,
  showActions = true,
}: ConversationProps) {
  const [sendError, setSendError] = useState('');
  const waiting = new Set(connection.queued.map((message) => message.id));

  const onSend = (text: string) => {
    const { result, id } = connection.send(text);
    if (result === 'sent' || result === 'queued') {
      add('sent', text, { messageId: id });
      setSendError('');
      return true;
    }
    setSendError(
      result === 'full'
        ? `${connection.queued.length} messages are already waiting for the connection: this one was not queued. It is still in the box.`
        : 'Not connected: connect first.',
    );
    return false;
  };

  return (
    <>
      <ConnectionBar connection={connection} onChange={add} showActions={showActions} />
      <MessageLogView log={log} onClear={clear} waiting={waiting} />
      <MessageComposer
        canSend={canSend(connection)}
        queueing={connection.state.status !== 'open'}
        onSend={onSend}
        error={sendError}
      />
    </>
  );
}
