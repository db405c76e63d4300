/** Names of the close codes of RFC 6455 section 7.4.1 and the IANA registry. */
const CLOSE_CODE_NAMES: Readonly<Record<number, string>> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status received',
  1006: 'abnormal closure',
  1007: 'invalid payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'mandatory extension',
  1011: 'internal error',
  1012: 'service restart',
  1013: 'try again later',
  1014: 'bad gateway',
  1015: 'TLS handshake failure',
};

export function closeCodeName(code: number): string {
  const name = CLOSE_CODE_NAMES[code];
  if (name !== undefined) return name;
  if (code >= 4000 && code <= 4999) return 'application code';
  return 'unknown code';
}

/** "1008 policy violation": a code with its name, as every page shows one. */
export function namedCode(code: number): string {
  return `${code} ${closeCodeName(code)}`;
}
