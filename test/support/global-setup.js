// Builds the console page (the console serves it from the build, and tests run from sources), then starts one
// moto_server (AWS IAM/STS/EC2/DynamoDB emulator) for the whole run on a free loopback port. Tests read its URL
// from MOTO_ENDPOINT. moto is required: a missing moto_server fails the run loudly.
const { spawn } = require('node:child_process');
const net = require('node:net');
const http = require('node:http');
const { buildConsolePage } = require('../../scripts/build-console-page');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function ping(url) {
  return new Promise((resolve) => {
    const req = http.get(url + '/moto-api/', (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(500, () => {
      req.destroy();
      resolve(false);
    });
  });
}

module.exports = async function globalSetup() {
  // The console serves its page from the build; tests run from sources, so the page is built first.
  buildConsolePage();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d.toString();
    if (stderr.length > 8000) stderr = stderr.slice(-8000);
  });
  let spawnError;
  child.on('error', (e) => {
    spawnError = e;
  });
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`could not start moto_server (pip install 'moto[server]'): ${spawnError.message}`);
    if (await ping(url)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!(await ping(url))) {
    child.kill('SIGKILL');
    throw new Error(`moto_server did not answer on ${url} within 30 s:\n${stderr}`);
  }
  child.stderr.removeAllListeners('data');
  child.stderr.destroy();
  child.unref();
  process.env.MOTO_ENDPOINT = url;
  globalThis.__MOTO__ = child;
};
