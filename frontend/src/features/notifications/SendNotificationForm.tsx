import { type FormEvent, useState } from 'react';
import { Field } from '../../components/Field';
import {
  checkNotification,
  MAX_TEXT,
  type NotificationProblem,
  NotificationRefused,
  sendNotification,
} from './send';

/** "to" and "text", sent with POST /api/notifications as the signed-in user. */
export function SendNotificationForm() {
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<NotificationProblem | null>(null);
  const [sent, setSent] = useState('');
  const [sending, setSending] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSent('');
    const checked = checkNotification(to, text);
    if (checked !== null) {
      setProblem(checked);
      if (checked.field !== null) document.getElementById(checked.field)?.focus();
      return;
    }
    setProblem(null);
    setSending(true);
    try {
      await sendNotification(to, text);
      setSent(`Sent to ${to}.`);
      setText('');
    } catch (error) {
      const refused =
        error instanceof NotificationRefused
          ? error
          : new NotificationRefused('The notification was not sent.');
      setProblem({ field: refused.field, error: refused.message });
      if (refused.field !== null) document.getElementById(refused.field)?.focus();
    } finally {
      setSending(false);
    }
  };

  const invalid = (field: NotificationProblem['field']) =>
    problem !== null && problem.field === field ? true : undefined;
  return (
    <form
      className="items-form"
      onSubmit={submit}
      aria-labelledby="send-heading"
      data-testid="send-notification"
    >
      <h2 id="send-heading" className="form-heading">
        Send a notification
      </h2>
      <fieldset>
        <legend className="visually-hidden">Notification</legend>
        <Field id="notify-to" label="To" hint="The user's name, as they signed in.">
          <input
            id="notify-to"
            value={to}
            onChange={(event) => {
              setTo(event.target.value);
              setProblem(null);
            }}
            autoComplete="off"
            maxLength={64}
            aria-invalid={invalid('notify-to')}
            aria-describedby="notify-to-hint notify-error"
          />
        </Field>
        <Field id="notify-text" label="Text">
          <input
            id="notify-text"
            value={text}
            onChange={(event) => {
              setText(event.target.value);
              setProblem(null);
            }}
            autoComplete="off"
            maxLength={MAX_TEXT}
            aria-invalid={invalid('notify-text')}
            aria-describedby="notify-error"
          />
        </Field>
      </fieldset>
      <div className="form-actions">
        <button type="submit" disabled={sending}>
          Send
        </button>
        <span role="status" className="hint" data-testid="notify-sent">
          {sent}
        </span>
      </div>
      <p id="notify-error" className="form-error" role="alert">
        {problem?.error ?? ''}
      </p>
    </form>
  );
}
