/**
 * Client-side routing for a handful of fixed paths, in the browser's own History API.
 * A router library would add its size to every first visit for features these pages never use.
 */
import {
  type AnchorHTMLAttributes,
  type ComponentType,
  type MouseEvent,
  useSyncExternalStore,
} from 'react';

const NAVIGATED = 'app:navigated'; // pushState fires no event of its own

function subscribe(onChange: () => void) {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

/** The current path; components that read it render again when it changes. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

export function navigate(href: string) {
  window.history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATED));
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { readonly href: string };

/** An ordinary link, followed without a page load unless the person asked for a new tab. */
export function Link({ href, onClick, ...rest }: LinkProps) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    const modified = event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
    if (event.defaultPrevented || event.button !== 0 || modified || rest.target) return;
    event.preventDefault();
    if (href !== window.location.pathname + window.location.search) navigate(href);
  };
  return <a href={href} onClick={follow} {...rest} />;
}

/** The page for the current path, or `fallback` for any other. */
export function Routes({
  pages,
  fallback: Fallback,
}: {
  readonly pages: Readonly<Record<string, ComponentType>>;
  readonly fallback: ComponentType;
}) {
  const Page = pages[usePath()] ?? Fallback;
  return <Page />;
}
