import type { ReactNode } from 'react';
import { Link, Route, Switch, useRoute } from 'wouter';
import { ChatPage } from './pages/ChatPage';
import { EchoPage } from './pages/EchoPage';
import { HomePage } from './pages/HomePage';
import { ItemsPage } from './pages/ItemsPage';
import { NotFoundPage } from './pages/NotFoundPage';

function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const [active] = useRoute(href);
  return (
    <Link href={href} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  );
}

export function App() {
  return (
    <>
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
        </nav>
      </header>
      <main id="main">
        <Switch>
          <Route path="/" component={HomePage} />
          <Route path="/echo" component={EchoPage} />
          <Route path="/items" component={ItemsPage} />
          <Route path="/chat" component={ChatPage} />
          <Route component={NotFoundPage} />
        </Switch>
      </main>
    </>
  );
}
