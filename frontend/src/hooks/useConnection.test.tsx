import { act, renderHook } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { useConnection } from './useConnection';

beforeEach(() => {
  FakeWebSocket.instances = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

/**
 * How many listeners for each of `types` are attached to `target` now, counted through its
 * own add and remove methods (which still do their work).
 */
function watchListeners(target: EventTarget, types: readonly string[]) {
  const attached = new Map(types.map((type) => [type, new Set<unknown>()]));
  const add = target.addEventListener.bind(target);
  const remove = target.removeEventListener.bind(target);
  vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
    attached.get(type)?.add(listener);
    add(type, listener, options);
  });
  vi.spyOn(target, 'removeEventListener').mockImplementation((type, listener, options) => {
    attached.get(type)?.delete(listener);
    remove(type, listener, options);
  });
  return () => Object.fromEntries([...attached].map(([type, listeners]) => [type, listeners.size]));
}

/** Lets the microtask that opens the socket on mount run. */
const flushMicrotasks = () => act(async () => {});

describe('useConnection', () => {
  it('opens exactly one socket under StrictMode, and closes it on unmount', async () => {
    const { result, unmount } = renderHook(
      () => useConnection({ url: () => 'ws://test/ws', connectOnMount: true }),
      { wrapper: StrictMode },
    );
    await flushMicrotasks();
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(result.current.state).toEqual({ status: 'connecting', retry: 0 });
    unmount();
    expect(FakeWebSocket.latest().closedWith).toEqual({ code: 1000, reason: 'page closed' });
  });

  it('waits for connect() when not asked to connect on mount', async () => {
    const { result } = renderHook(() => useConnection({ url: () => 'ws://test/ws' }));
    await flushMicrotasks();
    expect(FakeWebSocket.instances).toHaveLength(0);
    act(() => result.current.connect());
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('renders each change of state and hands messages to the latest onMessage', () => {
    const first = vi.fn();
    const second = vi.fn();
    const { result, rerender } = renderHook(
      ({ onMessage }) => useConnection({ url: () => 'ws://test/ws', onMessage }),
      { initialProps: { onMessage: first } },
    );
    act(() => result.current.connect());
    act(() => FakeWebSocket.latest().serverAccepts('realtime.text.v1'));
    expect(result.current.state).toEqual({ status: 'open', protocol: 'realtime.text.v1' });
    rerender({ onMessage: second });
    act(() => FakeWebSocket.latest().serverSends('x'));
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledWith({ kind: 'text', text: 'x', replyTo: null });
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('stops listening to the network and the tab after unmount', async () => {
    const onWindow = watchListeners(window, ['online', 'offline']);
    const onDocument = watchListeners(document, ['visibilitychange']);
    const { result, unmount } = renderHook(() =>
      useConnection({ url: () => 'ws://test/ws', connectOnMount: true }),
    );
    await flushMicrotasks();
    // Seen attached first, so that the counts below cannot be zero for want of watching.
    expect(onWindow()).toEqual({ online: 1, offline: 1 });
    expect(onDocument()).toEqual({ visibilitychange: 1 });
    act(() => FakeWebSocket.latest().serverCloses(1006));
    expect(result.current.state.status).toBe('waiting');
    unmount();
    expect(onWindow()).toEqual({ online: 0, offline: 0 });
    expect(onDocument()).toEqual({ visibilitychange: 0 });
    window.dispatchEvent(new Event('online'));
    expect(FakeWebSocket.instances).toHaveLength(1);
  });
});
