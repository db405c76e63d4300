import { type FormEvent, useEffect, useState } from 'react';
import { useServerConfig } from '../api/config';
import { endSession, hasSession, startSession } from '../api/session';
import { requestTicket } from '../api/tickets';
import { requestSignedToken } from '../api/tokens';
import { Conversation } from '../components/Conversation';
import { Field } from '../components/Field';
import { useConversation } from '../components/useConversation';
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

/** The socket URL for the form: a single-use ticket stands in for the credential. */
export function itemsSocketUrl(
  form: ItemsForm,
  ticket: string,
  location?: Pick<Location, 'protocol' | 'host'>,
) {
  return webSocketUrl(itemsPath(form), { q: form.q === '' ? undefined : form.q, ticket }, location);
}

/** A fresh ticket for every attempt: with the token as a bearer header, or with the cookie. */
async function ticketedUrl(form: ItemsForm): Promise<string> {
  const bearer = form.credentialKind === 'token' ? form.credential : undefined;
  return itemsSocketUrl(form, await requestTicket(itemsPath(form), bearer));
}

export function ItemsPage() {
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

  useEffect(() => {
    hasSession()
      .then(setCookieSet)
      .catch(() => setCookieSet(null));
  }, []);

  const update = (change: Partial<ItemsForm>) => setForm((current) => ({ ...current, ...change }));

  const connect = async (event: FormEvent) => {
    event.preventDefault();
    setFormError('');
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
          with a <code>q</code> that is not an integer, the server refuses with 1008.
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
                {form.credentialKind === 'token'
                  ? 'Sent as a bearer header, for a ticket. Leave it empty to see the refusal.'
                  : 'Set as an HttpOnly cookie by POST /api/session; scripts cannot read it.'}{' '}
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
              aria-describedby="credential-hint"
            />
          </Field>
          <button type="button" className="link-button" onClick={getSignedToken}>
            Get a signed token
          </button>
          <Field id="q" label="q (optional integer)">
            <input
              id="q"
              value={form.q}
              onChange={(event) => update({ q: event.target.value })}
              inputMode="numeric"
              autoComplete="off"
              maxLength={40}
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
            A session cookie is set: the server uses it rather than the token. Clear it to use the
            token.
          </p>
        )}
        <p id="items-form-error" className="form-error" role="alert">
          {formError}
        </p>
      </form>

      <Conversation conversation={conversation} showActions={false} />
    </article>
  );
}
