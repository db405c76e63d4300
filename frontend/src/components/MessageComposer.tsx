import { type FormEvent, useId, useState } from 'react';

interface MessageComposerProps {
  /** Open, or a connection on its way (the message then waits in the queue). */
  readonly canSend: boolean;
  /** Not open yet: what is sent now waits for the connection. */
  readonly queueing: boolean;
  /** The server's limit (GET /api/config), once known. */
  readonly maxLength?: number | undefined;
  /** Returns whether the message was taken; the text stays in the box if not. */
  readonly onSend: (text: string) => boolean;
  readonly error?: string;
}

export function MessageComposer({
  canSend,
  queueing,
  maxLength,
  onSend,
  error = '',
}: MessageComposerProps) {
  const [text, setText] = useState('');
  const inputId = useId();
  const errorId = useId();
  const empty = text.trim() === '';

  const submit = (event: FormEvent) => {
    event.preventDefault(); // Enter in the field submits the form: sends, never reloads
    if (!canSend || empty) return;
    if (onSend(text)) setText('');
  };

  const placeholder = !canSend
    ? 'Connect to send messages'
    : queueing
      ? 'Messages wait here until the connection is back'
      : 'Type a message and press Enter';
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={inputId}>Message</label>
      <div className="composer-row">
        <input
          id={inputId}
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder={placeholder}
          autoComplete="off"
          maxLength={maxLength}
          aria-describedby={errorId}
        />
        <button type="submit" disabled={!canSend || empty}>
          Send
        </button>
      </div>
      <p id={errorId} className="form-error" role="alert">
        {error}
      </p>
    </form>
  );
}
