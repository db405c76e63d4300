/** Bytes as people read and write them: hex pairs like `00 ff 1a`. */

/** The bytes of hex text (spaces, colons and a 0x prefix allowed), or an error to show. */
export function parseHex(text: string): Uint8Array | { error: string } {
  const digits = text.replace(/0x/gi, '').replace(/[\s:,]/g, '');
  if (digits === '') return { error: 'Type some bytes in hex, for example 48 65 6c 6c 6f.' };
  if (!/^[0-9a-f]*$/i.test(digits)) return { error: 'Only hex digits 0-9 and a-f, please.' };
  if (digits.length % 2 !== 0) return { error: 'Hex bytes come in pairs of digits.' };
  const bytes = new Uint8Array(digits.length / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = Number.parseInt(digits.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

/** "5 bytes: 48 65 6c 6c 6f", the first `shown` bytes then an ellipsis. */
export function describeBytes(data: ArrayBuffer, shown = 16): string {
  const bytes = new Uint8Array(data, 0, Math.min(shown, data.byteLength));
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
  const unit = data.byteLength === 1 ? 'byte' : 'bytes';
  const more = data.byteLength > shown ? ' …' : '';
  return `${data.byteLength.toLocaleString('en')} ${unit}${data.byteLength > 0 ? `: ${hex}${more}` : ''}`;
}
