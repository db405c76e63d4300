import { type FormEvent, useState } from 'react';
import { Conversation } from '../components/Conversation';
import { Field } from '../components/Field';
import type { Connection } from '../hooks/useConnection';
import { useConversation } from '../hooks/useConversation';
import { useServerConfig } from '../hooks/useServerConfig';
import { useTitle } from '../hooks/useTitle';
import { describeBytes, parseHex } from '../realtime/bytes';
import { canSend, whyNotSent } from '../realtime/connectionState';
import { webSocketUrl } from '../realtime/url';

const echoUrl = () => webSocketUrl('/ws');

export function EchoPage() {
  useTitle('Echo');
  // The echo answers each binary message with the same bytes, in order.
  const conversation = useConversation({
    url: echoUrl,
    connectOnMount: true,
    answersBinaryInOrder: true,
  });
  // The bytes form's last problem, until the next message goes out, whichever way it is sent.
  const [bytesError, setBytesError] = useState('');

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
      <Conversation conversation={conversation} onSent={() => setBytesError('')} />
      <BytesForm
        connection={conversation.connection}
        onSent={(data, id) => conversation.add('sent', describeBytes(data), { messageId: id })}
        error={bytesError}
        setError={setBytesError}
      />
    </article>
  );
}

function BytesForm({
  connection,
  onSent,
  error,
  setError,
}: {
  connection: Connection;
  onSent: (data: ArrayBuffer, id: string) => void;
  error: string;
  setError: (error: string) => void;
}) {
  const [hex, setHex] = useState('');
  const limit = useServerConfig()?.maxMessageBytes;

  const sendBytes = (data: ArrayBuffer) => {
    // Checked here to say so before sending; the server would close the connection with 1009.
    if (limit !== undefined && data.byteLength > limit) {
      setError(
        `That is ${data.byteLength.toLocaleString('en')} bytes: the server takes messages of up to ${limit.toLocaleString('en')} bytes.`,
      );
      return false;
    }
    const { result, id } = connection.send(data);
    if (result === 'sent' || result === 'queued') {
      onSent(data, id);
      setError('');
      return true;
    }
    setError(
      result === 'full'
        ? 'Too many messages are waiting already: these bytes were not sent.'
        : `Not sent: ${whyNotSent(connection.state)}. Press Connect, then send them again.`,
    );
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

  const disabled = !canSend(connection.state);
  const fileLabel =
    limit === undefined ? 'Or a file' : `Or a file (up to ${Math.floor(limit / 1024)} KiB)`;
  return (
    <details className="bytes">
      <summary>Binary messages</summary>
      <form className="bytes-form" onSubmit={submitHex}>
        <Field id="hex-bytes" label="Bytes in hex">
          <div className="composer-row">
            <input
              id="hex-bytes"
              value={hex}
              onChange={(event) => setHex(event.target.value)}
              placeholder="48 65 6c 6c 6f"
              autoComplete="off"
              spellCheck={false}
            />
            <button type="submit" aria-disabled={disabled}>
              Send bytes
            </button>
          </div>
        </Field>
        <Field id="file-bytes" label={fileLabel}>
          <input
            id="file-bytes"
            type="file"
            disabled={disabled}
            onChange={(event) => {
              void sendFile(event.target.files?.[0]);
              event.target.value = ''; // the same file can be sent again
            }}
          />
        </Field>
        <p className="form-error" role="alert">
          {error}
        </p>
      </form>
    </details>
  );
}
