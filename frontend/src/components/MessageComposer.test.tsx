import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { MessageComposer } from './MessageComposer';

describe('MessageComposer', () => {
  it('sends on Enter and empties the box', async () => {
    const onSend = vi.fn(() => true);
    render(<MessageComposer canSend queueing={false} onSend={onSend} />);
    const box = screen.getByLabelText('Message');
    await userEvent.type(box, 'hello{Enter}');
    expect(onSend).toHaveBeenCalledWith('hello');
    expect(box).toHaveProperty('value', '');
  });

  it('does not send an empty or blank message', async () => {
    const onSend = vi.fn(() => true);
    render(<MessageComposer canSend queueing={false} onSend={onSend} />);
    await userEvent.type(screen.getByLabelText('Message'), '   {Enter}');
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Send' }).getAttribute('aria-disabled')).toBe('true');
  });

  it('marks Send unavailable while not connected, yet lets Enter through for the page to say why', async () => {
    const onSend = vi.fn(() => false);
    render(
      <MessageComposer canSend={false} queueing={false} onSend={onSend} error="Not sent: …" />,
    );
    const box = screen.getByLabelText('Message');
    await userEvent.type(box, 'hello{Enter}');
    expect(onSend).toHaveBeenCalledWith('hello');
    expect(box).toHaveProperty('value', 'hello');
    const send = screen.getByRole('button', { name: 'Send' });
    expect(send.getAttribute('aria-disabled')).toBe('true');
    expect(send).toHaveProperty('disabled', false); // a disabled default button would swallow Enter
  });

  it('says that what is sent waits while the connection is on its way', () => {
    render(<MessageComposer canSend queueing onSend={() => true} />);
    expect(screen.getByText('What you send now waits, and goes out once connected.')).toBeDefined();
  });

  it('keeps the text when it could not go out', async () => {
    render(<MessageComposer canSend queueing onSend={() => false} error="full" />);
    const box = screen.getByLabelText('Message');
    await userEvent.type(box, 'keep me{Enter}');
    expect(box).toHaveProperty('value', 'keep me');
    expect(screen.getByRole('alert').textContent).toBe('full');
  });
});
