import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { Link, navigate, Routes } from './router';

const Home = () => <p>home page</p>;
const Echo = () => <p>echo page</p>;
const Missing = () => <p>not found</p>;

function app() {
  return render(
    <>
      <Link href="/echo">Echo</Link>
      <Routes pages={{ '/': Home, '/echo': Echo }} fallback={Missing} />
    </>,
  );
}

describe('router', () => {
  afterEach(() => window.history.replaceState(null, '', '/'));

  it('shows the page for the path, and the fallback for any other', () => {
    window.history.replaceState(null, '', '/nowhere');
    app();
    expect(screen.getByText('not found')).toBeTruthy();
  });

  it('follows a link without a page load, and back', async () => {
    app();
    expect(screen.getByText('home page')).toBeTruthy();
    await userEvent.click(screen.getByRole('link', { name: 'Echo' }));
    expect(window.location.pathname).toBe('/echo');
    expect(await screen.findByText('echo page')).toBeTruthy();
    window.history.back();
    expect(await screen.findByText('home page')).toBeTruthy();
  });

  it('leaves a modified click to the browser (a new tab)', async () => {
    app();
    const user = userEvent.setup();
    await user.keyboard('{Control>}');
    await user.click(screen.getByRole('link', { name: 'Echo' }));
    await user.keyboard('{/Control}');
    expect(window.location.pathname).toBe('/');
  });

  it('renders again on navigate()', async () => {
    app();
    navigate('/echo');
    expect(await screen.findByText('echo page')).toBeTruthy();
  });
});
