import { useTitle } from '../hooks/useTitle';
import { Link } from '../router';

export function NotFoundPage() {
  useTitle('Page not found');
  return (
    <article className="page">
      <header className="page-header">
        <h1>Page not found</h1>
        <p>
          There is no page at this address. <Link href="/">Go to the home page</Link>.
        </p>
      </header>
    </article>
  );
}
