import { type FormEvent, useState } from 'react';
import { Conversation, canSend } from '../components/Conversation';
import { useMessageLog } from '../log/messageLog';
import { describeBytes, parseHex } from '../realtime/bytes';
import { describeIncoming } from '../realtime/describe';
import { webSocketUrl } from '../realtime/url';
import { type Connection, useConnection } from '../realtime/useConnection';

/** The server's default APP_WS_MAX_MESSAGE_SIZE: a bigger message is closed with 1009. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export function EchoPage() {
  const { log, add, clear } = useMessageLog();
  const connection = useConnection({
    url: () => webSocketUrl('/ws'),
    onMessage: (message) =>
      add(message.kind === 'error' ? 'error' : 'received', describeIncoming(message)),
    connectOnMount: true,
  });

  return (
    <article className="page">
      <header className="page-header">
        <h1>Echo</h1>
        <p>
          The guide's first endpoint, <code>WS /ws</code>: every message you send comes back as{' '}
          <q>Message text was: …</q>, and bytes come back unchanged. The page connects as it loads
          and reconnects by itself if the connection drops.
        </p>
      </header>
      <Conversation connection={connection} log={log} add={add} clear={clear} />
      <BytesForm
        connection={connection}
        onSent={(data, id) => add('sent', describeBytes(data), { messageId: id })}
      />
    </article>
  );
}

function BytesForm({
  connection,
  onSent,
}: {
  connection: Connection;
  onSent: (data: ArrayBuffer, id: string) => void;
}) {
  const [hex, setHex] = useState('');
  const [error, setError] = useState('');

  const sendBytes = (data: ArrayBuffer) => {
    if (data.byteLength > MAX_MESSAGE_BYTES) {
      setError(
        `That is ${data.byteLength.toLocaleString('en')} bytes: the server takes messages of up to ${MAX_MESSAGE_BYTES.toLocaleString('en')} bytes.`,
      );
      return false;
    }
    const { result, id } = connection.send(data);
    if (result === 'sent' || result === 'queued') {
      onSent(data, id);
      setError('');
      return true;
    }
    setError(result === 'full' ? 'Too many messages are waiting already.' : 'Connect first.');
    return false;
  };

  const submitHex = (event: FormEvent) => {
    event.preventDefault();
    const bytes = parseHex(hex);
    if ('error' in bytes) {
      setError(bytes.error);
      return;
    }
    if (sendBytes(bytes.slice().buffer)) setHex('');
  };

  const sendFile = async (file: File | undefined) => {
    if (file !== undefined) sendBytes(await file.arrayBuffer());
  };

  const disabled = !canSend(connection);
  return (
    <details className="bytes">
      <summary>Binary messages</summary>
      <form className="bytes-form" onSubmit={submitHex}>
        <div className="field">
          <label htmlFor="hex-bytes">Bytes in hex</label>
          <div className="composer-row">
            <input
              id="hex-bytes"
              value={hex}
              onChange={(event) => setHex(event.target.value)}
              placeholder="48 65 6c 6c 6f"
              autoComplete="off"
              spellCheck={false}
            />
            <button type="submit" disabled={disabled}>
              Send bytes
            </button>
          </div>
        </div>
        <div className="field">
          <label htmlFor="file-bytes">Or a file (up to 64 KiB)</label>
          <input
            id="file-bytes"
            type="file"
            disabled={disabled}
            onChange={(event) => {
              void sendFile(event.target.files?.[0]);
              event.target.value = ''; // the same file can be sent again
            }}
          />
        </div>
        <p className="form-error" role="alert">
          {error}
        </p>
      </form>
    </details>
  );
}
