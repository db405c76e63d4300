import { type FormEvent, useEffect, useRef, useState } from 'react';
import { sessionState } from '../api/session';
import { requestTicket } from '../api/tickets';
import { Conversation } from '../components/Conversation';
import { Field } from '../components/Field';
import { useConversation } from '../hooks/useConversation';
import { useTitle } from '../hooks/useTitle';
import type { EventMessage } from '../realtime/codec';
import { type ConnectionState, isActive } from '../realtime/connectionState';
import { describeEvent, describeSync } from '../realtime/describeMessage';
import { ConnectionRefused, type Welcome } from '../realtime/ReconnectingSocket';
import { RoomPositions } from '../realtime/roomPositions';
import {
  type ChatSeat,
  chatPath,
  chatSocketUrl,
  isSenderKey,
  parseSeat,
  rememberedSeat,
  rememberedSenderKey,
  rememberJoin,
  rememberLeave,
  rememberSenderKey,
  type SeatProblem,
} from './chatSeat';

interface Attempt {
  /** With a session, a single-use ticket for it; without, a guest, as the guide's chat allows. */
  readonly guest: boolean;
  /** The server's clock as the attempt began (whole seconds), to tell its own join apart. */
  readonly serverTime: number | null;
}

/**
 * The URL of one attempt. Whether there is a session is asked first: asking for a ticket
 * without one would be a 401, which the browser logs as an error on every guest's join.
 */
async function chatUrl(
  seat: ChatSeat,
  since: string | undefined,
  senderKey: string | null,
  onAttempt: (attempt: Attempt) => void,
): Promise<string> {
  const session = await sessionState(); // its error says what failed: tried again
  const query = { since, senderKey };
  if (session.active) {
    try {
      const ticket = await requestTicket(chatPath(seat));
      onAttempt({ guest: false, serverTime: session.serverTime });
      return chatSocketUrl(seat, { ...query, ticket });
    } catch (error) {
      // A cookie the server does not take (not one it signed, say): in as a guest.
      if (!(error instanceof ConnectionRefused)) throw error;
    }
  }
  onAttempt({ guest: true, serverTime: session.serverTime });
  return chatSocketUrl(seat, query);
}

/** How the chat words each stage of one's own message. */
const CHAT_DELIVERY = {
  waiting: 'waiting for the connection',
  sent: 'sending…',
  answered: 'delivered',
} as const;

/** What the Online panel says while it has no list to show. */
function presenceNote(state: ConnectionState, room: string): string {
  switch (state.status) {
    case 'connecting':
      return state.retry === 0 ? `Joining ${room}…` : `Reconnecting to ${room}…`;
    case 'waiting':
      return `Reconnecting to ${room}: who is there shows again once the connection is back.`;
    case 'offline':
      return `Offline: who is in ${room} shows again once the network is back.`;
    default:
      return 'Join a room to see who is there.';
  }
}

export function ChatPage() {
  useTitle('Chat');
  const [remembered] = useState(rememberedSeat);
  const [clientId, setClientId] = useState(remembered.clientId);
  const [room, setRoom] = useState(remembered.room);
  const [online, setOnline] = useState<{ ids: readonly number[]; complete: boolean }>({
    ids: [],
    complete: true,
  });
  const [guest, setGuest] = useState<boolean | null>(null);
  const [alsoElsewhere, setAlsoElsewhere] = useState(false);
  // The seat of the current connection; read by the URL function at every (re)connect.
  const seat = useRef<ChatSeat>(remembered.rejoin ?? { clientId: 0, room: remembered.room });
  // Where the page is in each room's stream: it resumes from there after a reconnect.
  const positions = useRef(new RoomPositions());
  // Ids of the messages sent from this page: the room's copy of one is not shown again.
  const mine = useRef(new Set<string>());
  // The server's key for this tab's messages: sent back on every attempt, kept across reloads.
  const senderKey = useRef(rememberedSenderKey());
  // The person is joining (Join, or a reload that rejoins) until an attempt gets its sync:
  // attempts until then are a joining, those after it returns.
  const joining = useRef(remembered.rejoin !== null);
  // The attempt under way: whether it is a joining, the messages received before its sync,
  // and what the page knows of its own joining.
  const attempt = useRef({
    joining: false,
    catchingUp: true,
    messages: 0,
    serverTime: null as number | null,
    ownJoinPlaced: false,
    decided: true,
  });
  const messageBox = useRef<HTMLInputElement>(null);
  const joinButton = useRef<HTMLButtonElement>(null);
  const focusJoinAfterLeaving = useRef(false);

  const onRoomEvent = (message: EventMessage) => {
    const { room, clientId: you } = seat.current;
    const current = attempt.current;
    switch (message.type) {
      case 'presence':
        setOnline({ ids: message.online, complete: message.complete });
        if (!current.decided) {
          // The first list after joining: by now the room has sent this attempt's own join,
          // if it placed one. None means the number was in the room already, on another
          // connection, and the room counts the two as one member.
          current.decided = true;
          setAlsoElsewhere(current.serverTime !== null && !current.ownJoinPlaced);
        }
        return;
      case 'ack':
        return; // the transport marks the message as delivered
      case 'server_stats':
        return; // not sent on the chat
      case 'sync': {
        if (!message.recovered && message.reason !== null && message.reason !== 'first_join') {
          positions.current.reset(room, message);
        }
        const said = describeSync(message, current.messages, current.joining ? you : null);
        add(said.trouble ? 'error' : 'event', said.text);
        joining.current = false;
        current.catchingUp = false;
        current.messages = 0;
        return;
      }
    }
    if (positions.current.accept(room, message) === 'seen') return; // shown once already
    const when = { at: message.at };
    if (message.client_id === you) {
      // One number is one member, however many connections it has: its own comings and
      // goings are not news to it, and what it said elsewhere (another tab, before a reload)
      // is its own.
      // The room places a join only for a number's first connection. This attempt's own is
      // one the room placed after the attempt began, by the server's clock (its Date header,
      // in whole seconds): an earlier one was another connection's.
      if (message.type === 'joined' && current.serverTime !== null) {
        current.ownJoinPlaced ||= message.at >= current.serverTime;
      }
      if (message.type !== 'chat') return;
      if (message.message_id !== null && mine.current.has(message.message_id)) return;
      if (current.catchingUp) current.messages += 1;
      add('sent', message.text, { who: 'You', ...when });
      return;
    }
    if (message.type === 'chat') {
      if (current.catchingUp) current.messages += 1;
      add('received', message.text, { who: `Client #${message.client_id}`, ...when });
    } else {
      add('event', describeEvent(message), when);
    }
  };

  const onWelcome = ({ senderKey: key }: Welcome) => {
    if (isSenderKey(key) && key !== senderKey.current) {
      senderKey.current = key;
      rememberSenderKey(key);
    }
  };

  const conversation = useConversation({
    url: () => {
      const since = positions.current.since(seat.current.room);
      attempt.current = {
        joining: joining.current,
        catchingUp: true,
        messages: 0,
        serverTime: null,
        ownJoinPlaced: false,
        decided: !joining.current, // a return says nothing new about other connections
      };
      return chatUrl(seat.current, since, senderKey.current, (started) => {
        setGuest(started.guest);
        attempt.current.serverTime = started.serverTime;
      });
    },
    connectOnMount: remembered.rejoin !== null,
    onWelcome,
    onIncoming: (incoming) => {
      if (incoming.kind !== 'event') return false;
      onRoomEvent(incoming.message);
      return true;
    },
  });
  const { connection, add } = conversation;
  const { state } = connection;
  const inRoom = isActive(state);

  useEffect(() => {
    if (!inRoom && focusJoinAfterLeaving.current) {
      focusJoinAfterLeaving.current = false;
      joinButton.current?.focus();
    }
  }, [inRoom]);

  // Checked as it is typed: what is wrong shows at once, and Join takes the person to it.
  const typed = parseSeat(clientId, room);
  const problem = 'error' in typed ? typed : null;
  const invalid = (field: SeatProblem['field']) => (problem?.field === field ? true : undefined);

  const join = (event: FormEvent) => {
    event.preventDefault();
    if ('error' in typed) {
      document.getElementById(typed.field)?.focus();
      return;
    }
    const parsed = typed;
    seat.current = parsed;
    rememberJoin(parsed);
    setOnline({ ids: [], complete: true });
    setAlsoElsewhere(false);
    joining.current = true;
    connection.connect();
    messageBox.current?.focus(); // what one does next is write
  };

  const leave = () => {
    connection.disconnect();
    rememberLeave();
    setOnline({ ids: [], complete: true });
    setAlsoElsewhere(false);
    focusJoinAfterLeaving.current = true;
  };

  const you = seat.current.clientId;
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
          <Field
            id="client-id"
            label="Your number"
            hint="Kept by this browser. The same number in two tabs or browsers is one member."
          >
            <input
              id="client-id"
              value={clientId}
              onChange={(event) => setClientId(event.target.value)}
              inputMode="numeric"
              autoComplete="off"
              maxLength={16}
              aria-invalid={invalid('client-id')}
              aria-describedby="client-id-hint chat-form-error"
            />
          </Field>
          <Field id="room" label="Room">
            <input
              id="room"
              value={room}
              onChange={(event) => setRoom(event.target.value)}
              aria-invalid={invalid('room')}
              aria-describedby="chat-form-error"
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
            <button key="join" type="submit" ref={joinButton}>
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
        {inRoom && alsoElsewhere && (
          <p className="notice" data-testid="also-elsewhere">
            #{you} was already connected elsewhere when you joined (another tab or browser): the
            room counts the two as one member, and what either says shows as yours.
          </p>
        )}
        <p id="chat-form-error" className="form-error" role="alert">
          {problem?.error}
        </p>
      </form>

      <div className="chat-layout">
        <div className="chat-main">
          <Conversation
            conversation={conversation}
            showActions={false}
            deliveryText={CHAT_DELIVERY}
            onSent={(id) => mine.current.add(id)}
            connectHint="Join a room, then send it again: it is still in the box."
            inputRef={messageBox}
          />
        </div>
        <aside className="presence" aria-labelledby="presence-heading">
          <h2 id="presence-heading">
            Online{state.status === 'open' ? ` in ${seat.current.room} (${online.ids.length})` : ''}
          </h2>
          {state.status === 'open' && !online.complete && (
            <p className="hint" data-testid="presence-partial">
              Only those on this server are listed: it cannot reach the others right now.
            </p>
          )}
          {state.status === 'open' ? (
            <ul data-testid="online">
              {online.ids.map((id) => (
                <li key={id}>
                  #{id}
                  {id === you && <span className="you"> (you)</span>}
                </li>
              ))}
            </ul>
          ) : (
            <p className="hint" data-testid="presence-note">
              {presenceNote(state, seat.current.room)}
            </p>
          )}
        </aside>
      </div>
    </article>
  );
}
