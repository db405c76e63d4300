import { describe, expect, it } from 'vitest';
import { RoomPositions } from './roomPositions';

describe('RoomPositions', () => {
  it('says where to resume from, room by room', () => {
    const positions = new RoomPositions();
    expect(positions.since('general')).toBeUndefined();
    positions.accept('general', { epoch: 'e1', offset: 4 });
    positions.accept('ops', { epoch: 'e9', offset: 1 });
    expect(positions.since('general')).toBe('e1:4');
    expect(positions.since('ops')).toBe('e9:1');
  });

  it('recognises an event it has already, so that it is shown once', () => {
    const positions = new RoomPositions();
    expect(positions.accept('r', { epoch: 'e1', offset: 1 })).toBe('new');
    expect(positions.accept('r', { epoch: 'e1', offset: 2 })).toBe('new');
    expect(positions.accept('r', { epoch: 'e1', offset: 2 })).toBe('seen');
    expect(positions.accept('r', { epoch: 'e1', offset: 1 })).toBe('seen');
  });

  it('starts over in a new epoch', () => {
    const positions = new RoomPositions();
    positions.accept('r', { epoch: 'old', offset: 40 });
    expect(positions.accept('r', { epoch: 'new', offset: 1 })).toBe('new');
    positions.reset('r', { epoch: 'newer', offset: 0 });
    expect(positions.since('r')).toBe('newer:0');
  });
});
