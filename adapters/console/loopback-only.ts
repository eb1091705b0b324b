import type { RequestHandler } from 'express';

// The console has no authentication, so it answers only to requests addressed to a loopback name. Checking the
// Host header defeats DNS rebinding (a web page whose domain resolves to 127.0.0.1), and checking Origin stops
// other sites open in the same browser from posting commands.

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

export const loopbackOnly: RequestHandler = (req, res, next) => {
  const host = req.headers.host ?? '';
  if (!LOOPBACK_HOSTNAMES.has(hostnameOf(host))) {
    res.status(403).json({ error: 'the local console only answers on 127.0.0.1 or localhost' });
    return;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, host)) {
    res.status(403).json({ error: 'cross-origin requests to the local console are refused' });
    return;
  }
  next();
};

function hostnameOf(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function sameOrigin(origin: string, hostHeader: string): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && url.host === hostHeader.trim().toLowerCase();
  } catch {
    return false;
  }
}
