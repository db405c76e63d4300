import { Conversation } from '../components/Conversation';
import { useMessageLog } from '../log/messageLog';
import { describeData } from '../realtime/describe';
import { TEXT_V1 } from '../realtime/protocol';
import { webSocketUrl } from '../realtime/url';
import { useWebSocket } from '../realtime/useWebSocket';

export function EchoPage() {
  const { log, add, clear } = useMessageLog();
  const socket = useWebSocket({
    url: () => webSocketUrl('/ws'),
    protocols: [TEXT_V1],
    onMessage: (data) => add('received', describeData(data)),
    connectOnMount: true,
  });

  return (
    <article className="page">
      <header className="page-header">
        <h1>Echo</h1>
        <p>
          The guide's first endpoint, <code>WS /ws</code>: every message you send comes back as{' '}
          <q>Message text was: …</q>, on one connection that the page opens as it loads.
        </p>
      </header>
      <Conversation socket={socket} log={log} add={add} clear={clear} />
    </article>
  );
}
