/** True for an absolute URI with a scheme and, for http(s), a host (audiences, RFC 8707). */
export function isAbsoluteUri(s: string): boolean {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(s)) return false;
  if (/\s/.test(s)) return false;
  try {
    const u = new URL(s);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && !u.hostname) return false;
    if (u.hash) return false;
    return true;
  } catch {
    return false;
  }
}
