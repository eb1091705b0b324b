// Tests never reach the internet: every TCP connection a test opens (HTTP, TLS, WebSocket, fetch, the SDKs) must
// go to this machine, where the fakes and moto_server listen. Anything else fails at once with the address it
// tried, instead of depending on each test remembering to point its SDK at a local fake. Unix sockets pass.
const net = require('node:net');

const isLoopback = (host) =>
  host === 'localhost' ||
  host === '::1' ||
  /^127\.\d+\.\d+\.\d+$/.test(host) ||
  /^::ffff:127\.\d+\.\d+\.\d+$/.test(host);

/** The host a `socket.connect(...)` call names, or undefined for a Unix socket path. */
function hostOf(args) {
  const [first, second] = Array.isArray(args[0]) ? args[0] : args;
  if (first !== null && typeof first === 'object')
    return first.path !== undefined ? undefined : (first.host ?? 'localhost');
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return typeof second === 'string' ? second : 'localhost';
  }
  return undefined; // connect(path)
}

const connect = net.Socket.prototype.connect;
if (!connect.loopbackOnly) {
  net.Socket.prototype.connect = function connectToLoopbackOnly(...args) {
    const host = hostOf(args);
    if (host !== undefined && !isLoopback(host)) {
      throw new Error(
        `a test tried to connect to ${host}: tests stay on this machine (point the client at a local fake)`,
      );
    }
    return connect.apply(this, args);
  };
  net.Socket.prototype.connect.loopbackOnly = true;
}
