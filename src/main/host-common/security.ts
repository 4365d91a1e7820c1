import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What keeps `fool serve` to its owner: a strict content security policy on every response, a
 * token on any address other than loopback, and (on loopback without a token) a Host check, so a
 * web page elsewhere cannot reach the lab through DNS rebinding.
 */

/** The renderer loads only its own scripts, styles and images; nothing may frame it. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

const COOKIE = 'fool_token';

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k !== COOKIE) continue;
    // A malformed cookie (bad percent-encoding) is no token, not a server error.
    try {
      return decodeURIComponent(v.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Whether a request that changes the lab comes from the app's own page. Browsers name the page
 * that sent a POST in Origin (and Sec-Fetch-Site): a page on another site, which could otherwise
 * post to 127.0.0.1 with the user's cookie, is refused. Clients that are not browsers (curl,
 * scripts) send neither and rely on the Host and token checks.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  return !!host && (origin === `http://${host}` || origin === `https://${host}`);
}

/**
 * Whether the request may proceed. With a token it must carry it: `Authorization: Bearer T`,
 * `?token=T` (EventSource and <img> cannot set headers), or the cookie set when a page was opened
 * with `?token=T`, so the app's own requests carry it without the renderer knowing about it.
 */
export function authorize(req: IncomingMessage, url: URL, res: ServerResponse, token: string | undefined): boolean {
  if (!token) {
    // Loopback only: the Host must name this machine (a rebinding page sends its own name).
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    return isLoopback(host);
  }
  const auth = req.headers.authorization;
  const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('token') ?? cookieToken(req));
  if (!given || !sameToken(given, token)) return false;
  if (url.searchParams.has('token')) {
    res.setHeader('Set-Cookie', `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
  }
  return true;
}
