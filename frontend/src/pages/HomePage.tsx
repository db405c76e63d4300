import { useTitle } from '../hooks/useTitle';
import { Link } from '../router';

export function HomePage() {
  useTitle('Home');
  return (
    <article className="page">
      <header className="page-header">
        <h1>FastAPI's WebSockets guide, made real</h1>
        <p>
          The endpoints of FastAPI's{' '}
          <a href="https://fastapi.tiangolo.com/advanced/websockets/">WebSockets guide</a>, exactly
          as the guide writes their messages, driven by a React app over the browser's own{' '}
          <code>WebSocket</code>. In development Vite serves this page and forwards the sockets to
          uvicorn; in production uvicorn serves both on one port.
        </p>
      </header>
      <ul className="cards">
        <li className="card">
          <h2>
            <Link href="/echo">Echo</Link>
          </h2>
          <p>
            <code>WS /ws</code> answers each message with <q>Message text was: …</q> on one
            connection. The page connects as it opens.
          </p>
        </li>
        <li className="card">
          <h2>
            <Link href="/items">Items</Link>
          </h2>
          <p>
            <code>WS /items/{'{item_id}'}/ws</code> needs a credential, the <code>session</code>{' '}
            cookie or a <code>token</code> query parameter, and takes an optional integer{' '}
            <code>q</code>. Try it without a credential to see the server refuse with 1008.
          </p>
        </li>
        <li className="card">
          <h2>
            <Link href="/chat">Chat</Link>
          </h2>
          <p>
            <code>WS /ws/{'{client_id}'}</code> is the guide's chat: what one client says, everyone
            in the room sees. It runs in one process by default and across many through Redis.
          </p>
        </li>
        <li className="card">
          <h2>
            <Link href="/server">Server</Link>
          </h2>
          <p>
            <code>WS /api/live</code> shows what the server sees, once a second: connections and
            message rates per endpoint, the room broker, the latest disconnects and refusals. For
            operators, with the operator token.
          </p>
        </li>
        <li className="card">
          <h2>
            <Link href="/notifications">Notifications</Link>
          </h2>
          <p>
            A second live feature on the same channels: what other users send you, over the page's
            one connection (<code>WS /ws/realtime</code>), with a bell on every page.
          </p>
        </li>
      </ul>
    </article>
  );
}
