/** A stand-in for the browser's WebSocket that a test drives by hand. */
export class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static instances: FakeWebSocket[] = [];

  readonly url: string;
  readonly protocols: string[];
  readyState = FakeWebSocket.CONNECTING;
  protocol = '';
  binaryType = 'blob';
  sent: unknown[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;

  constructor(url: string, protocols: string[] = []) {
    this.url = url;
    this.protocols = protocols;
    FakeWebSocket.instances.push(this);
  }

  send(data: unknown) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('not open');
    this.sent.push(data);
  }

  close(code?: number, reason?: string) {
    // The browser fires onclose later; ReconnectingSocket has let go of the socket by then.
    this.closedWith = { code, reason };
    this.readyState = FakeWebSocket.CLOSED;
  }

  // What the server would do:
  serverAccepts(protocol = this.protocols[0] ?? '') {
    this.protocol = protocol;
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.();
  }

  serverSends(data: unknown) {
    this.onmessage?.({ data });
  }

  serverCloses(code: number, reason = '') {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code, reason });
  }

  static latest(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (socket === undefined) throw new Error('no socket was opened');
    return socket;
  }
}
