import type { LogKind, MessageLog } from '../log/messageLog';
import type { Socket } from '../realtime/useWebSocket';
import { ConnectionBar } from './ConnectionBar';
import { MessageComposer } from './MessageComposer';
import { MessageLogView } from './MessageLogView';

interface ConversationProps {
  readonly socket: Socket;
  readonly log: MessageLog;
  readonly add: (kind: LogKind, text: string) => void;
  readonly clear: () => void;
  readonly showActions?: boolean;
}

/** A socket's state, its log and the box to write in: what every page of the app shows. */
export function Conversation({ socket, log, add, clear, showActions = true }: ConversationProps) {
  return (
    <>
      <ConnectionBar socket={socket} onChange={add} showActions={showActions} />
      <MessageLogView log={log} onClear={clear} />
      <MessageComposer
        connected={socket.state.status === 'open'}
        onSend={(text) => {
          const sent = socket.send(text);
          if (sent) add('sent', text);
          return sent;
        }}
      />
    </>
  );
}
