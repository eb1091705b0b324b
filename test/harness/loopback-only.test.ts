import { createServer, type AddressInfo } from 'node:net';

// test/support/loopback-only.js (a jest setup file) refuses any connection a test opens to another machine.

test('a connection to another machine fails at once, naming the address', async () => {
  await expect(fetch('http://192.0.2.10:8080/')).rejects.toMatchObject({
    cause: expect.objectContaining({ message: expect.stringContaining('a test tried to connect to 192.0.2.10') }),
  });
});

test('connections to this machine still work', async () => {
  const server = createServer((socket) => socket.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const { connect } = await import('node:net');
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(text).toBe('ok');
  } finally {
    server.close();
  }
});
