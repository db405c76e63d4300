import { type FormEvent, useRef, useState } from 'react';
import { requestTicket } from '../api/tickets';
import { Conversation } from '../components/Conversation';
import { Field } from '../components/Field';
import { useConversation } from '../components/useConversation';
import type { EventMessage } from '../realtime/codec';
import { isActive } from '../realtime/connectionState';
import { describeEvent, NOT_RECOVERED } from '../realtime/describeMessage';
import { ConnectionRefused } from '../realtime/ReconnectingSocket';
import { RoomPositions } from '../realtime/roomPositions';
import { webSocketUrl } from '../realtime/url';

export interface ChatSeat {
  readonly clientId: number;
  readonly room: string;
}

/** The seat typed into the form, or what is wrong with it (the server checks the same). */
export function parseSeat(clientId: string, room: string): ChatSeat | { error: string } {
  const id = Number(clientId);
  if (!/^\d{1,16}$/.test(clientId.trim()) || !Number.isSafeInteger(id)) {
    return { error: 'Your number must be a whole number from 0 to 9007199254740991.' };
  }
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(room)) {
    return { error: 'The room name takes 1 to 32 letters, digits, - or _.' };
  }
  return { clientId: id, room };
}

export const chatPath = (seat: ChatSeat) => `/ws/${seat.clientId}`;

export function chatSocketUrl(
  seat: ChatSeat,
  ticket?: string,
  location?: Pick<Location, 'protocol' | 'host'>,
  since?: string,
) {
  return webSocketUrl(chatPath(seat), { room: seat.room, since, ticket }, location);
}

/**
 * With a session, the page joins with a single-use ticket for it; without one (the server
 * answers 401), as a guest, which the guide's chat allows.
 */
async function chatUrl(
  seat: ChatSeat,
  since: string | undefined,
  onGuest: (guest: boolean) => void,
): Promise<string> {
  try {
    const ticket = await requestTicket(chatPath(seat));
    onGuest(false);
    return chatSocketUrl(seat, ticket, undefined, since);
  } catch (error) {
    if (!(error instanceof ConnectionRefused)) throw error;
    onGuest(true);
    return chatSocketUrl(seat, undefined, undefined, since);
  }
}

/** How the chat words each stage of one's own message. */
const CHAT_DELIVERY = {
  waiting: 'waiting for the connection',
  sent: 'sending…',
  answered: 'delivered',
} as const;

const randomClientId = () => String(1000 + Math.floor(Math.random() * 9000));

export function ChatPage() {
  const [clientId, setClientId] = useState(randomClientId);
  const [room, setRoom] = useState(
    () => new URLSearchParams(window.location.search).get('room') ?? 'general',
  );
  const [formError, setFormError] = useState('');
  const [online, setOnline] = useState<{ ids: readonly number[]; complete: boolean }>({
    ids: [],
    complete: true,
  });
  const [guest, setGuest] = useState<boolean | null>(null);
  // The seat of the current connection; read by the URL function at every (re)connect.
  const seat = useRef<ChatSeat>({ clientId: 0, room: 'general' });
  // Where the page is in each room's stream: it resumes from there after a reconnect.
  const positions = useRef(new RoomPositions());
  // Ids of the messages sent from this page: the room's copy of one is not shown again.
  const mine = useRef(new Set<string>());
  // Messages said in the room that came before the sync that ends a catch-up.
  const caughtUp = useRef(0);

  const onRoomEvent = (message: EventMessage) => {
    const { room } = seat.current;
    switch (message.type) {
      case 'presence':
        setOnline({ ids: message.online, complete: message.complete });
        return;
      case 'ack':
        return; // the transport marks the message as delivered
      case 'server_stats':
        return; // not sent on the chat
      case 'sync': {
        if (!message.recovered && message.reason !== null && message.reason !== 'first_join') {
          positions.current.reset(room, message);
          add('error', NOT_RECOVERED[message.reason]);
        } else if (message.recovered) {
          const count = caughtUp.current;
          add(
            'event',
            count === 0
              ? 'Back in the room: nothing was missed.'
              : `Recovered ${count} missed ${count === 1 ? 'message' : 'messages'}.`,
          );
        } else if (caughtUp.current > 0) {
          const count = caughtUp.current;
          add(
            'event',
            `Joined ${room}: the ${count} most recent ${count === 1 ? 'message is' : 'messages are'} above.`,
          );
        }
        caughtUp.current = 0;
        return;
      }
    }
    if (positions.current.accept(room, message) === 'seen') return; // shown once already
    const when = { at: message.at };
    if (message.type === 'chat') {
      caughtUp.current += 1;
      if (message.message_id !== null && mine.current.has(message.message_id)) return;
      add('received', message.text, { who: `Client #${message.client_id}`, ...when });
    } else if (message.type === 'joined' && message.client_id === seat.current.clientId) {
      add('event', `You joined ${message.room} as #${message.client_id}`, when);
    } else {
      add('event', describeEvent(message), when);
    }
  };

  const conversation = useConversation({
    url: () => {
      caughtUp.current = 0;
      return chatUrl(seat.current, positions.current.since(seat.current.room), setGuest);
    },
    onIncoming: (incoming) => {
      if (incoming.kind !== 'event') return false;
      onRoomEvent(incoming.message);
      return true;
    },
  });
  const { connection, add } = conversation;
  const { status } = connection.state;
  const inRoom = isActive(connection.state);

  const join = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseSeat(clientId, room);
    if ('error' in parsed) {
      setFormError(parsed.error);
      return;
    }
    setFormError('');
    seat.current = parsed;
    setOnline({ ids: [], complete: true });
    connection.connect();
  };

  const leave = () => {
    connection.disconnect();
    setOnline({ ids: [], complete: true });
  };

  return (
    <article className="page">
      <header className="page-header">
        <h1>Chat</h1>
        <p>
          The guide's chat, <code>WS /ws/{'{client_id}'}</code>: everyone in the room sees what each
          client says, and hears when one leaves. Rooms keep conversations apart; with Redis the
          room spans every server process. Open this page in a second window to talk to yourself.
        </p>
      </header>

      <form className="items-form" onSubmit={join} aria-describedby="chat-form-error">
        <fieldset disabled={inRoom}>
          <legend className="visually-hidden">Seat</legend>
          <Field id="client-id" label="Your number">
            <input
              id="client-id"
              value={clientId}
              onChange={(event) => setClientId(event.target.value)}
              inputMode="numeric"
              autoComplete="off"
              maxLength={16}
            />
          </Field>
          <Field id="room" label="Room">
            <input
              id="room"
              value={room}
              onChange={(event) => setRoom(event.target.value)}
              autoComplete="off"
              maxLength={32}
            />
          </Field>
        </fieldset>
        <div className="form-actions">
          {/* Keys keep these two buttons distinct elements: if React reused one, the browser
              would run a submit for the click that just pressed Leave, and join again. */}
          {inRoom ? (
            <button key="leave" type="button" className="secondary" onClick={leave}>
              Leave
            </button>
          ) : (
            <button key="join" type="submit">
              Join
            </button>
          )}
        </div>
        {inRoom && guest !== null && (
          <p className="hint" data-testid="chat-identity">
            {guest
              ? 'Joined as a guest: the guide’s chat takes anyone. With a session (the Items page sets one), the page joins with a single-use ticket.'
              : 'Joined with a single-use ticket for your session.'}
          </p>
        )}
        <p id="chat-form-error" className="form-error" role="alert">
          {formError}
        </p>
      </form>

      <div className="chat-layout">
        <div className="chat-main">
          <Conversation
            conversation={conversation}
            showActions={false}
            deliveryText={CHAT_DELIVERY}
            onSent={(id) => mine.current.add(id)}
          />
        </div>
        <aside className="presence" aria-labelledby="presence-heading">
          <h2 id="presence-heading">
            Online{status === 'open' ? ` in ${seat.current.room} (${online.ids.length})` : ''}
          </h2>
          {status === 'open' && !online.complete && (
            <p className="hint" data-testid="presence-partial">
              Only those on this server are listed: it cannot reach the others right now.
            </p>
          )}
          {status === 'open' ? (
            <ul data-testid="online">
              {online.ids.map((id) => (
                <li key={id}>
                  #{id}
                  {id === seat.current.clientId && <span className="you"> (you)</span>}
                </li>
              ))}
            </ul>
          ) : (
            <p className="hint">Join a room to see who is there.</p>
          )}
        </aside>
      </div>
    </article>
  );
}
