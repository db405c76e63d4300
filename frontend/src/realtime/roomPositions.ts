/**
 * How far the page has come in each room's stream, so that after a reconnect it resumes from
 * there (`?since=epoch:offset`) and gets exactly what it missed, and so that an event it has
 * already is never shown twice. Any page that follows a room can keep one.
 */
import type { StreamPosition } from './messages';

export class RoomPositions {
  private readonly positions = new Map<string, StreamPosition>();

  get(room: string): StreamPosition | undefined {
    return this.positions.get(room);
  }

  /** `epoch:offset` for the URL, or undefined before the page has been in the room. */
  since(room: string): string | undefined {
    const position = this.positions.get(room);
    return position === undefined ? undefined : `${position.epoch}:${position.offset}`;
  }

  /** 'seen' for an event the page has already (shown once, never again); 'new' otherwise. */
  accept(room: string, event: StreamPosition): 'new' | 'seen' {
    const position = this.positions.get(room);
    if (
      position !== undefined &&
      position.epoch === event.epoch &&
      event.offset <= position.offset
    ) {
      return 'seen';
    }
    this.positions.set(room, { epoch: event.epoch, offset: event.offset });
    return 'new';
  }

  /** Where the room stands now, when its history could not be resumed (lost, too old). */
  reset(room: string, position: StreamPosition): void {
    if (position.epoch !== '') this.positions.set(room, position);
  }
}
