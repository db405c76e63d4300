import { type FormEvent, useEffect, useState } from 'react';
import { endSession, hasSession, startSession } from '../api/session';
import { requestTicket } from '../api/tickets';
import { requestSignedToken } from '../api/tokens';
import { Conversation } from '../components/Conversation';
import { Field } from '../components/Field';
import { useConversation } from '../hooks/useConversation';
import { useServerConfig } from '../hooks/useServerConfig';
import { useTitle } from '../hooks/useTitle';
import { isActive } from '../realtime/connectionState';
import { webSocketUrl } from '../realtime/url';

type CredentialKind = 'token' | 'cookie';

export interface ItemsForm {
  readonly itemId: string;
  readonly credentialKind: CredentialKind;
  readonly credential: string;
  readonly q: string;
}

export const itemsPath = (form: Pick<ItemsForm, 'itemId'>) =>
  `/items/${encodeURIComponent(form.itemId)}/ws`;

// RFC 6265's cookie-octet, as the server checks it: printable ASCII but space " , ; \
const COOKIE_SAFE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/;
const WHOLE_NUMBER = /^[+-]?\d+$/;

export interface FormProblem {
  /** The id of the input to fix. */
  readonly field: 'item-id' | 'credential' | 'q';
  readonly message: string;
}

/**
 * What is wrong with the form, in our words, or null: checked as it is typed, so that the page
 * says it at once rather than sending what the server would refuse.
 */
export function formProblem(form: ItemsForm): FormProblem | null {
  const itemId = form.itemId;
  const problem = (field: FormProblem['field'], message: string) => ({ field, message });
  if (itemId === '') return problem('item-id', 'Give an item ID.');
  // The ID is one segment of the socket's path: a slash would make two, . and .. move up.
  if (itemId.includes('/')) return problem('item-id', 'An item ID cannot contain a slash (/).');
  if (itemId === '.' || itemId === '..') {
    return problem('item-id', 'An item ID cannot be . or .. alone.');
  }
  if (form.credentialKind === 'cookie') {
    if (form.credential === '') return problem('credential', 'Give a value for the cookie.');
    if (!COOKIE_SAFE.test(form.credential)) {
      return problem(
        'credential',
        'A cookie value takes letters, digits and punctuation only: no spaces, quotes, commas, semicolons or backslashes.',
      );
    }
  }
  if (form.q !== '' && !WHOLE_NUMBER.test(form.q)) {
    return problem('q', 'q must be a whole number, such as 3 or -12, or left empty.');
  }
  return null;
}

/** The socket URL for the form: a single-use ticket stands in for the credential. */
export function itemsSocketUrl(
  form: ItemsForm,
  ticket: string | undefined,
  location?: Pick<Location, 'protocol' | 'host'>,
) {
  return webSocketUrl(itemsPath(form), { q: form.q === '' ? undefined : form.q, ticket }, location);
}

/**
 * A fresh ticket for every attempt: with the token as a bearer header, or with the cookie.
 * Without a token the socket is opened as it is, so that the server's refusal is a close
 * frame with its reason (no failed request in the browser's console).
 */
async function ticketedUrl(form: ItemsForm): Promise<string> {
  if (form.credentialKind === 'token' && form.credential.trim() === '') {
    return itemsSocketUrl(form, undefined);
  }
  const bearer = form.credentialKind === 'token' ? form.credential : undefined;
  return itemsSocketUrl(form, await requestTicket(itemsPath(form), bearer));
}

export function ItemsPage() {
  useTitle('Items');
  const [form, setForm] = useState<ItemsForm>({
    itemId: 'foo',
    credentialKind: 'token',
    credential: 'some-token',
    q: '',
  });
  const [cookieSet, setCookieSet] = useState<boolean | null>(null);
  const [formError, setFormError] = useState('');
  const [signedNote, setSignedNote] = useState('');
  const config = useServerConfig();
  const conversation = useConversation({ url: () => ticketedUrl(form) });
  const { connection } = conversation;
  const live = isActive(connection.state);
  const problem = formProblem(form);
  const invalid = (field: FormProblem['field']) => (problem?.field === field ? true : undefined);

  useEffect(() => {
    hasSession()
      .then(setCookieSet)
      .catch(() => setCookieSet(null));
  }, []);

  const update = (change: Partial<ItemsForm>) => setForm((current) => ({ ...current, ...change }));

  const connect = async (event: FormEvent) => {
    event.preventDefault();
    setFormError('');
    if (problem !== null) {
      document.getElementById(problem.field)?.focus();
      return;
    }
    if (form.credentialKind === 'cookie') {
      try {
        await startSession(form.credential);
        setCookieSet(true);
      } catch (error) {
        setFormError(`The session cookie was not set: ${(error as Error).message}`);
        return;
      }
    }
    connection.connect();
  };

  // Servers with APP_TOKEN_SECRET accept only tokens they signed; this asks for one.
  const getSignedToken = async () => {
    setFormError('');
    setSignedNote('');
    try {
      const signed = await requestSignedToken('visitor');
      update({ credential: signed.token });
      const until = new Date(signed.expiresAt).toLocaleTimeString();
      setSignedNote(`A token signed for ${signed.subject}, valid until ${until}.`);
    } catch (error) {
      setFormError(`No signed token: ${(error as Error).message}`);
    }
  };

  const clearCookie = async () => {
    setFormError('');
    try {
      await endSession();
      setCookieSet(false);
    } catch (error) {
      setFormError(`The session cookie was not cleared: ${(error as Error).message}`);
    }
  };

  return (
    <article className="page">
      <header className="page-header">
        <h1>Items</h1>
        <p>
          The guide's second endpoint, <code>WS /items/{'{item_id}'}/ws</code>: it needs a
          credential, the <code>session</code> cookie or a <code>token</code> (the cookie wins when
          both are sent), and takes an optional integer <code>q</code>. Without a credential, or
          with a <code>q</code> that is not an integer, the server refuses with 1008; this page
          checks <code>q</code> before it asks.
        </p>
        <p>
          This page never puts your credential in the socket's URL, where proxy logs and the
          browser's history would keep it. Before each connection it trades the token (as an{' '}
          <code>Authorization: Bearer</code> header) or the cookie for a single-use ticket at{' '}
          <code>POST /api/ws-tickets</code>, good for 30 seconds at this endpoint from this page,
          and opens the socket with <code>?ticket=</code>. Programs can send the bearer header on
          the handshake itself; the guide's <code>?token=</code> still works for clients written
          against the guide.
        </p>
      </header>

      <form className="items-form" onSubmit={connect} aria-describedby="items-form-error">
        <fieldset disabled={live}>
          <legend className="visually-hidden">Connection</legend>
          <Field id="item-id" label="Item ID">
            <input
              id="item-id"
              value={form.itemId}
              onChange={(event) => update({ itemId: event.target.value })}
              required
              maxLength={200}
              autoComplete="off"
              aria-invalid={invalid('item-id')}
              aria-describedby="items-form-error"
            />
          </Field>
          <fieldset className="field choice">
            <legend>Send the credential as</legend>
            <label>
              <input
                type="radio"
                name="credential-kind"
                checked={form.credentialKind === 'token'}
                onChange={() => update({ credentialKind: 'token' })}
              />
              A token, as a bearer header
            </label>
            <label>
              <input
                type="radio"
                name="credential-kind"
                checked={form.credentialKind === 'cookie'}
                onChange={() => update({ credentialKind: 'cookie' })}
              />
              Session cookie
            </label>
          </fieldset>
          <Field
            id="credential"
            label={form.credentialKind === 'token' ? 'Token' : 'Session cookie value'}
            hint={
              <>
                {form.credentialKind === 'cookie'
                  ? 'Set as an HttpOnly cookie by POST /api/session; scripts cannot read it.'
                  : config?.signedTokens === false
                    ? 'Sent as a bearer header, for a ticket. This server takes any token that is not empty, as the guide does; leave it empty to see the refusal.'
                    : config?.tokenMinting === false
                      ? 'Sent as a bearer header, for a ticket. This server takes only tokens it signed, and hands them out after a login (APP_DEV_TOKEN_MINTING is off).'
                      : 'Sent as a bearer header, for a ticket. Leave it empty to see the refusal.'}{' '}
                {signedNote}
              </>
            }
          >
            <input
              id="credential"
              value={form.credential}
              onChange={(event) => update({ credential: event.target.value })}
              autoComplete="off"
              maxLength={config?.maxCredentialLength}
              aria-invalid={invalid('credential')}
              aria-describedby="credential-hint items-form-error"
            />
            {/* Beside the field it fills; only where the server hands signed tokens out. */}
            {form.credentialKind === 'token' && config?.tokenMinting === true && (
              <button type="button" className="link-button field-action" onClick={getSignedToken}>
                Get a signed token
              </button>
            )}
          </Field>
          <Field id="q" label="q (optional integer)">
            <input
              id="q"
              value={form.q}
              onChange={(event) => update({ q: event.target.value })}
              inputMode="numeric"
              autoComplete="off"
              maxLength={40}
              aria-invalid={invalid('q')}
              aria-describedby="items-form-error"
            />
          </Field>
        </fieldset>
        <div className="form-actions">
          {!live && <button type="submit">Connect</button>}
          {live && (
            <button type="button" className="secondary" onClick={connection.disconnect}>
              Disconnect
            </button>
          )}
          <span className="cookie-state" data-testid="cookie-state">
            Session cookie: {cookieSet === null ? 'unknown' : cookieSet ? 'set' : 'not set'}
          </span>
          {cookieSet && (
            <button type="button" className="link-button" onClick={clearCookie} disabled={live}>
              Clear cookie
            </button>
          )}
        </div>
        {cookieSet && form.credentialKind === 'token' && (
          <p className="hint">
            A session cookie is set too: the ticket is asked for with the token, which the server
            takes over the cookie. Without a token, the socket goes with the cookie.
          </p>
        )}
        <p id="items-form-error" className="form-error" role="alert">
          {problem?.message ?? formError}
        </p>
      </form>

      <Conversation conversation={conversation} showActions={false} />
    </article>
  );
}
