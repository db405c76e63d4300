/** Where a page's WebSocket lives: the page's own host, `wss:` when the page is `https:`. */
export function webSocketUrl(
  path: string,
  query: Readonly<Record<string, string | undefined>> = {},
  location: Pick<Location, 'protocol' | 'host'> = window.location,
): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, value);
  }
  const search = params.size > 0 ? `?${params}` : '';
  return `${scheme}//${location.host}${path}${search}`;
}
