/** What the bell and the Notifications page say above the list: the connection, a refusal,
 * and what may be missing. */
export function NotificationStatus({
  note,
  refused,
  missing,
}: {
  readonly note: string | null;
  readonly refused: string | null;
  readonly missing: readonly string[];
}) {
  return (
    <>
      {note !== null && <p className="hint">{note}</p>}
      {refused !== null && <p className="form-error">The server would not say: {refused}.</p>}
      {missing.map((line) => (
        <p key={line} className="note-missing">
          {line}
        </p>
      ))}
    </>
  );
}
