import { type FormEvent, useRef, useState } from 'react';
import { requestLiveTicket } from '../api/live';
import { ConnectionBar } from '../components/ConnectionBar';
import { Field } from '../components/Field';
import { useConversation } from '../components/useConversation';
import type { RecentHappening, ServerStats } from '../realtime/messages';
import { webSocketUrl } from '../realtime/url';

/** From the server itself no token is needed; from elsewhere, a ticket for the metrics token. */
async function liveUrl(metricsToken: string): Promise<string> {
  const ticket = metricsToken === '' ? undefined : await requestLiveTicket(metricsToken);
  return webSocketUrl('/api/live', { ticket });
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function Happenings({ title, items }: { title: string; items: readonly RecentHappening[] }) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      {items.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <ul>
          {items.map((item) => (
            <li key={`${item.at}-${item.endpoint}-${item.what}`}>
              <time dateTime={new Date(item.at * 1000).toISOString()}>
                {timeFormat.format(item.at * 1000)}
              </time>{' '}
              <code>{item.what}</code> {item.endpoint}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ServerPage() {
  const [stats, setStats] = useState<ServerStats | null>(null);
  const [token, setToken] = useState('');
  const tokenForUrl = useRef('');
  const { connection, add, update } = useConversation({
    url: () => liveUrl(tokenForUrl.current),
    connectOnMount: true,
    onIncoming: (incoming) => {
      if (incoming.kind === 'event' && incoming.message.type === 'server_stats') {
        setStats(incoming.message);
      }
      return true; // numbers, not log lines
    },
  });

  const connectWithToken = (event: FormEvent) => {
    event.preventDefault();
    tokenForUrl.current = token;
    connection.connect();
  };

  return (
    <article className="page">
      <header className="page-header">
        <h1>Server</h1>
        <p>
          What the server process this page reached sees, once a second: open connections, message
          rates, the room broker, and the latest disconnects and refusals. The same numbers, for
          every process added up, are at <code>/metrics</code> for Prometheus. Only the server
          itself may look, or someone with the metrics token (<code>APP_METRICS_TOKEN</code>).
        </p>
      </header>

      <form className="items-form" onSubmit={connectWithToken}>
        <Field
          id="metrics-token"
          label="Metrics token"
          hint="Not needed from the server itself. It buys a single-use ticket; it never goes in the socket's URL."
        >
          <input
            id="metrics-token"
            type="password"
            value={token}
            onChange={(event) => setToken(event.target.value)}
            autoComplete="off"
            aria-describedby="metrics-token-hint"
          />
        </Field>
        <div className="form-actions">
          <button type="submit">Connect</button>
        </div>
      </form>

      <ConnectionBar connection={connection} add={add} update={update} showActions={false} />

      {stats !== null && connection.state.status === 'open' && (
        <>
          <section className="card" aria-labelledby="endpoints-heading">
            <h2 id="endpoints-heading">
              Connections on <code>{stats.process}</code>
            </h2>
            <table className="stats-table" data-testid="endpoints">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col" className="number">
                    Open
                  </th>
                  <th scope="col" className="number">
                    In per second
                  </th>
                  <th scope="col" className="number">
                    Out per second
                  </th>
                </tr>
              </thead>
              <tbody>
                {stats.endpoints.map((row) => (
                  <tr key={row.endpoint}>
                    <th scope="row">
                      <code>{row.endpoint}</code>
                    </th>
                    <td className="number">{row.open}</td>
                    <td className="number">{row.received_per_second}</td>
                    <td className="number">{row.sent_per_second}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p data-testid="broker">
              Room broker: {stats.broker.kind === 'redis' ? 'Redis' : 'this process’s memory'},{' '}
              {stats.broker.connected ? 'connected' : 'unreachable: rooms wait'}
            </p>
          </section>
          <div className="stats-panels">
            <Happenings title="Latest disconnects" items={stats.disconnects} />
            <Happenings title="Latest refusals" items={stats.refusals} />
          </div>
        </>
      )}
    </article>
  );
}
