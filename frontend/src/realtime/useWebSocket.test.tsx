import { act, renderHook } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { type SocketOptions, useWebSocket } from './useWebSocket';

beforeEach(() => {
  FakeWebSocket.instances = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function options(overrides: Partial<SocketOptions> = {}): SocketOptions {
  return {
    url: () => 'ws://test/ws',
    protocols: ['realtime.text.v1'],
    onMessage: vi.fn(),
    ...overrides,
  };
}

/** Lets the microtask that opens the socket on mount run. */
const flushMicrotasks = () => act(async () => {});

describe('useWebSocket', () => {
  it('opens exactly one socket under StrictMode, and closes it on unmount', async () => {
    const { result, unmount } = renderHook(() => useWebSocket(options({ connectOnMount: true })), {
      wrapper: StrictMode,
    });
    await flushMicrotasks();
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(result.current.state.status).toBe('connecting');
    unmount();
    expect(FakeWebSocket.latest().closedWith).toEqual({ code: 1000, reason: 'page closed' });
  });

  it('waits for connect() when not asked to connect on mount', async () => {
    const { result } = renderHook(() => useWebSocket(options()));
    await flushMicrotasks();
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(result.current.state).toEqual({ status: 'idle' });
  });

  it('offers the protocols and reports the one the server accepted', () => {
    const { result } = renderHook(() => useWebSocket(options()));
    act(() => result.current.connect());
    expect(FakeWebSocket.latest().protocols).toEqual(['realtime.text.v1']);
    act(() => FakeWebSocket.latest().serverAccepts());
    expect(result.current.state).toEqual({ status: 'open', protocol: 'realtime.text.v1' });
  });

  it('hands each message to onMessage and sends only while open', () => {
    const onMessage = vi.fn();
    const { result } = renderHook(() => useWebSocket(options({ onMessage })));
    act(() => result.current.connect());
    expect(result.current.send('too early')).toBe(false);
    act(() => FakeWebSocket.latest().serverAccepts());
    expect(result.current.send('hello')).toBe(true);
    expect(FakeWebSocket.latest().sent).toEqual(['hello']);
    act(() => FakeWebSocket.latest().serverSends('Message text was: hello'));
    expect(onMessage).toHaveBeenCalledWith('Message text was: hello');
  });

  it("reports the server's close code and reason", () => {
    const { result } = renderHook(() => useWebSocket(options()));
    act(() => result.current.connect());
    act(() => FakeWebSocket.latest().serverAccepts());
    act(() => FakeWebSocket.latest().serverCloses(1008, 'missing credentials'));
    expect(result.current.state).toEqual({
      status: 'closed',
      code: 1008,
      reason: 'missing credentials',
      byUser: false,
    });
    expect(result.current.send('after close')).toBe(false);
  });

  it('closes with 1000 when the user disconnects', () => {
    const { result } = renderHook(() => useWebSocket(options()));
    act(() => result.current.connect());
    act(() => FakeWebSocket.latest().serverAccepts());
    act(() => result.current.disconnect());
    expect(FakeWebSocket.latest().closedWith).toEqual({ code: 1000, reason: 'closed by the user' });
    expect(result.current.state).toMatchObject({ status: 'closed', code: 1000, byUser: true });
  });

  it('asks for a fresh URL at each connect, and ignores the socket it replaced', () => {
    let attempt = 0;
    const onMessage = vi.fn();
    const { result } = renderHook(() =>
      useWebSocket(options({ url: () => `ws://test/ws?attempt=${++attempt}`, onMessage })),
    );
    act(() => result.current.connect());
    const first = FakeWebSocket.latest();
    act(() => result.current.connect());
    const second = FakeWebSocket.latest();
    expect([first.url, second.url]).toEqual(['ws://test/ws?attempt=1', 'ws://test/ws?attempt=2']);
    expect(first.closedWith?.code).toBe(1000);
    act(() => {
      first.serverSends('late message from the old socket');
      first.serverCloses(1006);
    });
    expect(onMessage).not.toHaveBeenCalled();
    expect(result.current.state).toEqual({ status: 'connecting' });
  });

  it('uses the latest onMessage without reopening the socket', () => {
    const first = vi.fn();
    const second = vi.fn();
    const { result, rerender } = renderHook(
      ({ onMessage }) => useWebSocket(options({ onMessage })),
      { initialProps: { onMessage: first } },
    );
    act(() => result.current.connect());
    act(() => FakeWebSocket.latest().serverAccepts());
    rerender({ onMessage: second });
    act(() => FakeWebSocket.latest().serverSends('x'));
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledWith('x');
    expect(FakeWebSocket.instances).toHaveLength(1);
  });
});
