import { type FormEvent, useEffect, useRef, useState } from 'react';
import { sessionState } from '../api/session';
import { Conversation } from '../components/Conversation';
import { Field } from '../components/Field';
import { useChannel } from '../hooks/useChannel';
import type { Connection } from '../hooks/useConnection';
import type { PageConversation } from '../hooks/useConversation';
import { useMe } from '../hooks/useMe';
import { useMessageLog } from '../hooks/useMessageLog';
import { useTitle } from '../hooks/useTitle';
import type { EventMessage } from '../realtime/codec';
import { type ConnectionState, isActive } from '../realtime/connectionState';
import { describeEvent, describeSync } from '../realtime/describeMessage';
import { ChannelError } from '../realtime/RealtimeConnection';
import { CHAT_WORDS } from '../realtime/recovery';
import { chatChannel, chatMessageOf, chatPresenceOf, chatSyncOf } from './chatChannel';
import {
  type ChatSeat,
  parseSeat,
  rememberedSeat,
  rememberJoin,
  rememberLeave,
  type SeatProblem,
} from './chatSeat';

/** How the chat words each stage of one's own message. */
const CHAT_DELIVERY = {
  waiting: 'waiting for the connection',
  sent: 'sending…',
  answered: 'delivered',
} as const;

/** What Leave leaves the status line at: the person's own doing, as a Disconnect is. */
const LEFT: ConnectionState = {
  status: 'closed',
  cause: { kind: 'closed', code: 1000, reason: 'left the room' },
  why: 'user',
};

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
  const [alsoElsewhere, setAlsoElsewhere] = useState(false);
  // The room the person is in, or null; a reload rejoins by itself. Its channel is followed
  // once the server's clock is known (`following`), a moment later.
  const [inside, setInside] = useState<ChatSeat | null>(null);
  const [following, setFollowing] = useState<ChatSeat | null>(null);
  // Left on purpose (Leave): the status line says so until the next Join.
  const [left, setLeft] = useState(false);
  // The seat the page is in, or was last in; read by the handlers of its events.
  const seat = useRef<ChatSeat>(remembered.rejoin ?? { clientId: 0, room: remembered.room });
  // Ids of the messages sent from this page: the room's copy of one is not shown again.
  const mine = useRef(new Set<string>());
  // The person is joining (Join, or a reload that rejoins) until a catch-up ends with its
  // sync: catch-ups until then are a joining, those after it returns.
  const joining = useRef(false);
  // The server's clock as the person joined (whole seconds), to tell its own join apart.
  const joinedAt = useRef<number | null>(null);
  // The catch-up under way (each subscription the connection asks for is one): whether it is
  // a joining, the messages received before its sync, and what the page knows of its joining.
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
  const messageLog = useMessageLog();
  const { add, markAnswered } = messageLog;
  const me = useMe();

  const onRoomEvent = (message: EventMessage) => {
    const { clientId: you } = seat.current;
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
        return; // the publish's promise marks the message as delivered
      case 'server_stats':
        return; // not sent on the chat
      case 'sync': {
        const said = describeSync(message, current.messages, current.joining ? you : null);
        add(said.trouble ? 'error' : 'event', said.text);
        joining.current = false;
        current.catchingUp = false;
        current.messages = 0;
        return;
      }
    }
    // The connection hands each event over once, however often a reconnect replays it.
    const when = { at: message.at };
    if (message.client_id === you) {
      // One number is one member, however many connections it has: its own comings and
      // goings are not news to it, and what it said elsewhere (another tab, before a reload)
      // is its own.
      // The room places a join only for a number's first connection. This attempt's own is
      // one the room placed after the person joined, by the server's clock (its Date header,
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

  // The room, over the tab's one connection (WS /ws/realtime), as the member `clientId`.
  const channel = useChannel(following === null ? null : chatChannel(following.room), {
    member: following === null ? null : String(following.clientId),
    words: CHAT_WORDS,
    onSubscribe: () => {
      attempt.current = {
        joining: joining.current,
        catchingUp: true,
        messages: 0,
        serverTime: joining.current ? joinedAt.current : null,
        ownJoinPlaced: false,
        decided: !joining.current, // a return says nothing new about other connections
      };
    },
    onEvent: (event) => {
      const message = chatMessageOf(event, seat.current.room);
      if (message !== null) onRoomEvent(message);
    },
    onSync: (sync) => onRoomEvent(chatSyncOf(sync, seat.current.room)),
    onPresence: (presence) => onRoomEvent(chatPresenceOf(presence, seat.current.room)),
  });

  // A room that refuses the page (the server keeps as many as it may, say) says why.
  const refusal = channel.error;
  useEffect(() => {
    if (refusal !== null) add('error', `The room could not be joined: ${refusal.detail}.`);
  }, [refusal, add]);

  // The chat's view of the shared connection: in a room, the connection's own state; out of
  // one, not connected (or left, after Leave), whatever else the tab follows over it.
  const shared = channel.connection;
  const state: ConnectionState =
    inside === null
      ? left
        ? LEFT
        : { status: 'idle' }
      : following !== inside || shared.state.status === 'idle'
        ? { status: 'connecting', retry: 0 } // until the room is followed
        : shared.state;
  const connection: Connection = {
    ...shared,
    state,
    connect: () => undefined, // Join does it
    disconnect: () => undefined, // Leave does it
    reconnectNow: channel.reconnectNow,
    send: (text) => {
      if (typeof text !== 'string' || inside === null) return { result: 'closed', id: '' };
      // Not before the room is followed (a moment after Join): a publish needs the membership.
      if (following !== inside) return { result: 'closed', id: '' };
      const publishing = channel.publish({ text });
      const { id, result } = publishing;
      if (result === 'sent' || result === 'queued') {
        publishing.then(
          () => markAnswered(id),
          (error: unknown) => {
            const detail = error instanceof ChannelError ? error.detail : String(error);
            add('error', `Not delivered: ${detail}.`);
          },
        );
      }
      return { result, id };
    },
  };
  const conversation: PageConversation = { ...messageLog, connection };
  const inRoom = isActive(state);
  const guest = me === undefined ? null : me.subject === null;

  const enter = (parsed: ChatSeat) => {
    seat.current = parsed;
    setOnline({ ids: [], complete: true });
    setAlsoElsewhere(false);
    setLeft(false);
    setInside(parsed);
    // Followed afresh: also after a connection that was refused or given up on.
    setFollowing(null);
    joining.current = true;
    joinedAt.current = null;
    // The server's clock first (a question that never fails for a guest), then the room.
    sessionState()
      .then(
        (session) => {
          joinedAt.current = session.serverTime;
        },
        () => undefined, // joined all the same; only "also elsewhere" cannot be told
      )
      .finally(() => {
        if (seat.current === parsed) setFollowing(parsed); // not if left or moved meanwhile
      });
  };

  // A reload in a room joins it again, by itself (once, on the first mount).
  // biome-ignore lint/correctness/useExhaustiveDependencies: only the first mount rejoins
  useEffect(() => {
    if (remembered.rejoin !== null) enter(remembered.rejoin);
  }, []);

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
    rememberJoin(typed);
    enter(typed);
    messageBox.current?.focus(); // what one does next is write
  };

  const leave = () => {
    seat.current = { ...seat.current }; // a join still asking the clock does not follow
    setInside(null);
    setFollowing(null);
    setLeft(true);
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
          The guide's chat: everyone in the room sees what each client says, and hears when one
          leaves. The page follows the room as the channel <code>chat:{'{room}'}</code> over the
          tab's one connection (<code>WS /ws/realtime</code>, with the bell's notifications); the
          guide's own <code>WS /ws/{'{client_id}'}</code> clients meet it in the same rooms. With
          Redis a room spans every server process. Open this page in a second window to talk to
          yourself.
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
