import { type FormEvent, useId, useState } from 'react';

interface MessageComposerProps {
  readonly connected: boolean;
  /** Returns whether the message went out; the text is kept for another try if not. */
  readonly onSend: (text: string) => boolean;
}

export function MessageComposer({ connected, onSend }: MessageComposerProps) {
  const [text, setText] = useState('');
  const inputId = useId();
  const empty = text.trim() === '';

  const submit = (event: FormEvent) => {
    event.preventDefault(); // Enter in the field submits the form: sends, never reloads
    if (!connected || empty) return;
    if (onSend(text)) setText('');
  };

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={inputId}>Message</label>
      <div className="composer-row">
        <input
          id={inputId}
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder={connected ? 'Type a message and press Enter' : 'Connect to send messages'}
          autoComplete="off"
          maxLength={10_000}
        />
        <button type="submit" disabled={!connected || empty}>
          Send
        </button>
      </div>
    </form>
  );
}
