import { lazy, type ReactNode, Suspense } from 'react';
import { RealtimeProvider } from './hooks/RealtimeProvider';
import { HomePage } from './pages/HomePage';
import { NotFoundPage } from './pages/NotFoundPage';
import { Link, Routes, usePath } from './router';

// The pages that talk over WebSockets load when first visited: the first paint needs only
// React, the shell and the home page, which keeps the initial JavaScript within its budget
// (frontend/scripts/bundle-budget.mjs).
const EchoPage = lazy(() => import('./pages/EchoPage').then((m) => ({ default: m.EchoPage })));
const ItemsPage = lazy(() => import('./pages/ItemsPage').then((m) => ({ default: m.ItemsPage })));
const ChatPage = lazy(() => import('./pages/ChatPage').then((m) => ({ default: m.ChatPage })));
const ServerPage = lazy(() =>
  import('./pages/ServerPage').then((m) => ({ default: m.ServerPage })),
);
const NotificationsPage = lazy(() =>
  import('./features/notifications/NotificationsPage').then((m) => ({
    default: m.NotificationsPage,
  })),
);
// The bell, in the header of every page, with the realtime client it brings: after the
// first paint, so that a first visit's JavaScript stays within its budget.
const NotificationBell = lazy(() =>
  import('./features/notifications/NotificationBell').then((m) => ({
    default: m.NotificationBell,
  })),
);

const PAGES = {
  '/': HomePage,
  '/echo': EchoPage,
  '/items': ItemsPage,
  '/chat': ChatPage,
  '/server': ServerPage,
  '/notifications': NotificationsPage,
};

function NavLink({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Link href={href} aria-current={usePath() === href ? 'page' : undefined}>
      {children}
    </Link>
  );
}

export function App() {
  return (
    <RealtimeProvider>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link href="/" className="brand">
          FastAPI + React real-time
        </Link>
        <nav aria-label="Main">
          <NavLink href="/">Home</NavLink>
          <NavLink href="/echo">Echo</NavLink>
          <NavLink href="/items">Items</NavLink>
          <NavLink href="/chat">Chat</NavLink>
          <NavLink href="/server">Server</NavLink>
          <NavLink href="/notifications">Notifications</NavLink>
        </nav>
        <Suspense fallback={null}>
          <NotificationBell />
        </Suspense>
      </header>
      <main id="main">
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Routes pages={PAGES} fallback={NotFoundPage} />
        </Suspense>
      </main>
    </RealtimeProvider>
  );
}
