import { lockDataDirForServer } from '../../../src/store/server-lock';

// Child of open-store.test.ts: takes a data directory's server lock, says so, and waits to be killed.
//   node test/support/run-ts.js test/store/children/hold-server-lock.ts <dataDir>

const [dataDir] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: hold-server-lock.ts <dataDir>');
lockDataDirForServer(dataDir);
process.stdout.write('locked\n');
setInterval(() => undefined, 60_000);
