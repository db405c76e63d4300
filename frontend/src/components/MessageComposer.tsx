import { type FormEvent, type Ref, useId, useState } from 'react';

interface MessageComposerProps {
  /** Open, or a connection on its way (the message then waits in the queue). */
  readonly canSend: boolean;
  /** Not open yet: what is sent now waits for the connection. */
  readonly queueing: boolean;
  /** The server's limit (GET /api/config), once known. */
  readonly maxLength?: number | undefined;
  /**
   * Called for every message typed, also when it cannot go out, so that the page can say why.
   * Returns whether the message was taken; the text stays in the box if not.
   */
  readonly onSend: (text: string) => boolean;
  readonly error?: string;
  readonly inputRef?: Ref<HTMLInputElement>;
}

export function MessageComposer({
  canSend,
  queueing,
  maxLength,
  onSend,
  error = '',
  inputRef,
}: MessageComposerProps) {
  const [text, setText] = useState('');
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();
  const empty = text.trim() === '';

  const submit = (event: FormEvent) => {
    event.preventDefault(); // Enter in the field submits the form: sends, never reloads
    if (empty) return;
    if (onSend(text)) setText('');
  };

  // Not `disabled`: a disabled default button would make Enter do nothing, silently. The
  // button still looks and reads as unavailable, and pressing it says why.
  const unavailable = !canSend || empty;
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={inputId}>Message</label>
      <div className="composer-row">
        <input
          id={inputId}
          ref={inputRef}
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder="Type a message"
          autoComplete="off"
          maxLength={maxLength}
          aria-describedby={`${hintId} ${errorId}`}
        />
        <button type="submit" aria-disabled={unavailable}>
          Send
        </button>
      </div>
      <p id={hintId} className="hint">
        {canSend && queueing ? 'What you send now waits, and goes out once connected.' : ''}
      </p>
      <p id={errorId} className="form-error" role="alert">
        {error}
      </p>
    </form>
  );
}
