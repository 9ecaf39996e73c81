// A controller to kill: writes one big file to a host through the built rollgate (dist/), then exits.
// Used by host-files-faults.test.ts, which SIGKILLs it mid-transfer. argv: TARGET_JSON PATH MEBIBYTES
import { SshConnection } from '../../../dist/connection/ssh.js';
import { writeRemoteFile } from '../../../dist/modules/host-files.js';

const [targetJson, path, mib] = process.argv.slice(2);
const conn = await SshConnection.open(JSON.parse(targetJson));
process.stdout.write('connected\n');
await writeRemoteFile(conn, path, Buffer.alloc(Number(mib) * 1024 * 1024, 0x61));
process.stdout.write('done\n');
await conn.close();
