import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RealtimeProvider } from '../../hooks/RealtimeProvider';
import { RealtimeConnection } from '../../realtime/RealtimeConnection';
import { FakeWebSocket } from '../../test/fakeWebSocket';
import { NotificationBell } from './NotificationBell';
import { loadReadState, storageKey } from './readState';

let realtime: RealtimeConnection;

beforeEach(() => {
  FakeWebSocket.instances = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response(JSON.stringify({ subject: 'alice', roles: ['user'] }))),
  );
  window.localStorage.clear();
  realtime = new RealtimeConnection({ url: () => 'ws://test/ws/realtime' });
});

afterEach(() => {
  realtime.close();
  vi.unstubAllGlobals();
});

const frame = (message: object) =>
  act(() => FakeWebSocket.latest().serverSends(JSON.stringify(message)));

const notification = (offset: number, text: string) => ({
  type: 'event',
  channel: 'user:alice',
  epoch: 'e1',
  offset,
  at: 1_732_440_000_000 + offset,
  kind: 'published',
  sender: 'bob',
  message_id: null,
  data: { sender: 'bob', text },
});

describe('NotificationBell', () => {
  it('counts what is unread, says so politely, and marks it read when opened', async () => {
    window.localStorage.setItem(
      storageKey('alice'),
      JSON.stringify({ read: { 'user:alice': { epoch: 'e1', offset: 3 } }, kept: [] }),
    );
    render(
      <RealtimeProvider connection={realtime}>
        <NotificationBell />
      </RealtimeProvider>,
    );
    const bell = await screen.findByRole('button', { name: 'Notifications' });
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1)); // the bell follows
    act(() => FakeWebSocket.latest().serverAccepts('realtime.json.v1'));
    // Resumed from where Alice stopped reading.
    const subscribes = FakeWebSocket.latest()
      .sent.map((data) => JSON.parse(String(data)))
      .filter((message) => message.type === 'subscribe');
    expect(subscribes.map((message) => [message.channel, message.since])).toEqual([
      ['user:alice', 'e1:3'],
      ['announcements', undefined],
    ]);
    frame(notification(4, 'Lunch?'));
    frame(notification(5, 'At noon'));

    expect(screen.getByRole('button', { name: 'Notifications, 2 unread notifications' })).toBe(
      bell,
    );
    expect(screen.getByRole('status').textContent).toBe('2 unread notifications');
    expect(bell.getAttribute('aria-expanded')).toBe('false');

    await userEvent.click(bell);
    expect(bell.getAttribute('aria-expanded')).toBe('true');
    const panel = screen.getByRole('region', { name: 'Notifications' });
    expect(panel.textContent).toContain('From bob');
    expect(panel.textContent).toContain('At noon');
    expect(screen.getByRole('button', { name: 'Notifications' })).toBe(bell);
    expect(screen.getByRole('status').textContent).toBe('');
    expect(loadReadState('alice').read['user:alice']).toEqual({ epoch: 'e1', offset: 5 });

    await userEvent.keyboard('{Escape}');
    expect(bell.getAttribute('aria-expanded')).toBe('false');
  });
});
