/**
 * Who and where one is in the chat, and what the browser keeps of it: the number per browser
 * (localStorage), the room in the address, and per tab (sessionStorage) the room the tab is in,
 * to rejoin it on a reload. (The server's sender key is the tab's connection's: see
 * realtime/RealtimeConnection.ts.)
 */

export interface ChatSeat {
  readonly clientId: number;
  readonly room: string;
}

export const DEFAULT_ROOM = 'general'; // the guide's one chat
const ROOM_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/** What is wrong with a seat, and in which field (its input's id). */
export interface SeatProblem {
  readonly error: string;
  readonly field: 'client-id' | 'room';
}

/** The seat typed into the form, or what is wrong with it (the server checks the same). */
export function parseSeat(clientId: string, room: string): ChatSeat | SeatProblem {
  const id = Number(clientId);
  if (!/^\d{1,16}$/.test(clientId.trim()) || !Number.isSafeInteger(id)) {
    return {
      error: 'Your number must be a whole number from 0 to 9007199254740991.',
      field: 'client-id',
    };
  }
  if (!ROOM_NAME.test(room)) {
    return { error: 'The room name takes 1 to 32 letters, digits, - or _.', field: 'room' };
  }
  return { clientId: id, room };
}

// Storage can be missing or refuse (a private window, a full quota): then nothing is kept.
function read(storage: () => Storage, key: string): string | null {
  try {
    return storage().getItem(key);
  } catch {
    return null;
  }
}

function write(storage: () => Storage, key: string, value: string | null): void {
  try {
    if (value === null) storage().removeItem(key);
    else storage().setItem(key, value);
  } catch {
    // not kept: the page works the same, it only forgets on a reload
  }
}

const local = () => window.localStorage;
const session = () => window.sessionStorage;
const NUMBER_KEY = 'chat.number';
const SEAT_KEY = 'chat.seat';

/** What the page starts with: the room in the address, the number this browser used last. */
export function rememberedSeat(search = window.location.search): {
  readonly clientId: string;
  readonly room: string;
  /** The tab was in this room when it was reloaded: it joins again by itself. */
  readonly rejoin: ChatSeat | null;
} {
  const inAddress = new URLSearchParams(search).get('room');
  const room = inAddress !== null && ROOM_NAME.test(inAddress) ? inAddress : null;
  const stored = read(session, SEAT_KEY);
  let rejoin: ChatSeat | null = null;
  if (stored !== null) {
    const [id = '', storedRoom = ''] = stored.split(' ');
    const seat = parseSeat(id, storedRoom);
    // A link to another room is a wish to go there, not back.
    if (!('error' in seat) && (room === null || room === seat.room)) rejoin = seat;
  }
  const number = read(local, NUMBER_KEY);
  return {
    clientId: rejoin !== null ? String(rejoin.clientId) : (number ?? randomClientId()),
    room: rejoin?.room ?? room ?? DEFAULT_ROOM,
    rejoin,
  };
}

const randomClientId = () => String(1000 + Math.floor(Math.random() * 9000));

/** Joining: the number is kept for this browser, the room goes in the address and the tab. */
export function rememberJoin(seat: ChatSeat): void {
  write(local, NUMBER_KEY, String(seat.clientId));
  write(session, SEAT_KEY, `${seat.clientId} ${seat.room}`);
  const url = new URL(window.location.href);
  url.searchParams.set('room', seat.room);
  // Replaced, not pushed: Back leaves the chat rather than stepping through its rooms.
  window.history.replaceState(window.history.state, '', url);
}

/** Leaving on purpose: a reload does not bring the tab back into the room. */
export function rememberLeave(): void {
  write(session, SEAT_KEY, null);
}
