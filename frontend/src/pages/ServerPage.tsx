import { type FormEvent, useEffect, useRef, useState } from 'react';
import { requestTicket } from '../api/tickets';
import { ConnectionBar } from '../components/ConnectionBar';
import { Field } from '../components/Field';
import { useConversation } from '../hooks/useConversation';
import { useTitle } from '../hooks/useTitle';
import { isActive } from '../realtime/connectionState';
import type { RecentHappening, ServerStats } from '../realtime/messages';
import { webSocketUrl } from '../realtime/url';
import { describeDisconnect, describeRefusal } from './happenings';

export const LIVE_ENDPOINT = '/api/live';

/**
 * With the operator token, a single-use ticket bought with it (the token never goes in the
 * URL); without, the socket as it is, which a server lets in only from its own machine when
 * it is set up to (APP_OPERATOR_ON_LOOPBACK), and refuses with its reason otherwise.
 */
async function liveUrl(operatorToken: string): Promise<string> {
  const ticket =
    operatorToken === '' ? undefined : await requestTicket(LIVE_ENDPOINT, operatorToken);
  return webSocketUrl(LIVE_ENDPOINT, { ticket });
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function Happenings({
  title,
  items,
  describe,
}: {
  title: string;
  items: readonly RecentHappening[];
  describe: (what: string) => string;
}) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      {items.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <ul className="happenings">
          {items.map((item) => (
            <li key={`${item.at}-${item.endpoint}-${item.what}`}>
              <time dateTime={new Date(item.at * 1000).toISOString()}>
                {timeFormat.format(item.at * 1000)}
              </time>{' '}
              {item.endpoint !== '' && <code>{item.endpoint}</code>} {describe(item.what)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ServerPage() {
  useTitle('Server');
  const [stats, setStats] = useState<ServerStats | null>(null);
  const [token, setToken] = useState('');
  // The token of the current attempt ('' for none): read by the URL function, shown below.
  const tokenInUse = useRef('');
  const [usedToken, setUsedToken] = useState('');
  const tokenBox = useRef<HTMLInputElement>(null);
  const { connection, add, update } = useConversation({
    url: () => liveUrl(tokenInUse.current),
    connectOnMount: true,
    onIncoming: (incoming) => {
      if (incoming.kind === 'event' && incoming.message.type === 'server_stats') {
        setStats(incoming.message);
      }
      return true; // numbers, not log lines
    },
  });
  const { state } = connection;
  const active = isActive(state);
  const refused = state.status === 'closed' && state.why === 'refused';
  // Whether this server lets this browser in without a token (learnt by trying: the page
  // first connects without one). Where it does, a token is not checked: it is ignored.
  const [inWithoutToken, setInWithoutToken] = useState<boolean | null>(null);
  useEffect(() => {
    if (usedToken !== '') return;
    if (state.status === 'open') setInWithoutToken(true);
    else if (state.status === 'closed' && state.why === 'refused') setInWithoutToken(false);
  }, [state, usedToken]);

  const connectWithToken = (event: FormEvent) => {
    event.preventDefault();
    tokenInUse.current = token.trim();
    setUsedToken(tokenInUse.current);
    connection.connect();
  };

  const disconnect = () => {
    connection.disconnect();
    tokenBox.current?.focus();
  };

  let access: { text: string; look: 'hint' | 'notice' | 'form-error' } | null = null;
  if (state.status === 'open' && usedToken === '') {
    access = {
      text: 'Looking without a token: this server lets this browser in as it is (from the server’s own machine, or with a session that has the operator role).',
      look: 'hint',
    };
  } else if (state.status === 'open' && inWithoutToken === true) {
    access = {
      text: 'The token was not checked: this server lets this browser in without one, so any token, right or wrong, is ignored here.',
      look: 'notice',
    };
  } else if (state.status === 'open') {
    access = { text: 'Looking with the operator token.', look: 'hint' };
  } else if (refused && usedToken === '') {
    access = {
      text: 'This server asks for the operator token: type it above and press Connect.',
      look: 'form-error',
    };
  } else if (refused) {
    access = {
      text: 'The server did not take this token (the reason is below): it needs APP_METRICS_TOKEN, or a signed token with the operator role.',
      look: 'form-error',
    };
  }
  const typedTokenUnused = active && token.trim() !== usedToken;

  return (
    <article className="page">
      <header className="page-header">
        <h1>Server</h1>
        <p>
          What the server process this page reached sees, once a second: open connections, message
          rates, the room broker, and the latest disconnects and refusals. The same numbers, for
          every process added up, are at <code>/metrics</code> for Prometheus. Only operators may
          look: with the operator token (<code>APP_METRICS_TOKEN</code>, or a signed token with the
          operator role), or from the server's own machine where it allows that.
        </p>
      </header>

      <form className="items-form" onSubmit={connectWithToken} aria-describedby="live-access">
        <Field
          id="metrics-token"
          label="Operator token"
          hint="It buys a single-use ticket; it never goes in the socket's URL. Leave it empty where the server lets its own machine in."
        >
          <input
            id="metrics-token"
            ref={tokenBox}
            type="password"
            value={token}
            onChange={(event) => setToken(event.target.value)}
            autoComplete="off"
            aria-describedby="metrics-token-hint"
          />
        </Field>
        <div className="form-actions">
          {!active && <button type="submit">Connect</button>}
          {typedTokenUnused && (
            <button type="submit">
              {token.trim() === '' ? 'Reconnect without a token' : 'Reconnect with this token'}
            </button>
          )}
          {active && (
            <button type="button" className="secondary" onClick={disconnect}>
              Disconnect
            </button>
          )}
        </div>
        <p id="live-access" className={access?.look ?? 'hint'} data-testid="live-access">
          {access?.text}
        </p>
        {typedTokenUnused && (
          <p className="hint" data-testid="token-unused">
            The token typed above is not in use yet: the connection goes on as it started.
          </p>
        )}
      </form>

      <ConnectionBar connection={connection} add={add} update={update} showActions={false} />

      {stats !== null && state.status === 'open' && (
        <>
          <section className="card" aria-labelledby="endpoints-heading">
            <h2 id="endpoints-heading">
              Connections on <code>{stats.process}</code>
            </h2>
            {/* A table wider than a phone scrolls inside its card, never the page. */}
            <section
              className="table-scroll"
              aria-label="Connections by endpoint"
              // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1)
              tabIndex={0}
            >
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
            </section>
            <p data-testid="broker">
              Room broker: {stats.broker.kind === 'redis' ? 'Redis' : 'this process’s memory'},{' '}
              {stats.broker.connected ? 'connected' : 'unreachable: rooms wait'}
            </p>
          </section>
          <div className="stats-panels">
            <Happenings
              title="Latest disconnects"
              items={stats.disconnects}
              describe={describeDisconnect}
            />
            <Happenings title="Latest refusals" items={stats.refusals} describe={describeRefusal} />
          </div>
        </>
      )}
    </article>
  );
}
