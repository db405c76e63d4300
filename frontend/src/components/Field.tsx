import type { ReactNode } from 'react';

interface FieldProps {
  /** The id of the control inside, which the label names. */
  readonly id: string;
  readonly label: ReactNode;
  /** Shown under the control; the control should name `${id}-hint` in aria-describedby. */
  readonly hint?: ReactNode;
  readonly children: ReactNode;
}

/** A labelled form control, as every form of the app lays one out. */
export function Field({ id, label, hint, children }: FieldProps) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint !== undefined && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
    </div>
  );
}
