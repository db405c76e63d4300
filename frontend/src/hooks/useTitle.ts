import { useEffect } from 'react';

export const SITE_NAME = 'FastAPI + React real-time';

/** The tab's title while the page is shown: the page's name first, which is what a tab shows. */
export function useTitle(page: string): void {
  useEffect(() => {
    document.title = `${page} · ${SITE_NAME}`;
  }, [page]);
}
