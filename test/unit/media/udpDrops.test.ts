/**
 * sfu_udp_receive_drops_total's source (src/media/udpDrops.ts):
 * - /proc/net/udp rows parsed (port from the hex local address, inode, the last column's drops; IPv6 rows;
 *   malformed rows skipped);
 * - the total counts only ports in the range, is monotonic across a socket closing (its last value kept) and
 *   counts a socket's growth once;
 * - on Linux, a real socket in the range whose tiny receive buffer overflows while nobody reads it shows up.
 */
import { createSocket } from 'node:dgram';
import t from 'tap';
import { parseProcNetUdp, UdpDrops } from '../../../src/media/udpDrops.js';

const HEADER =
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';
const row = (port: number, inode: number, drops: number, v6 = false): string =>
  `  12: ${v6 ? '00000000000000000000000001000000' : '0100007F'}:${port.toString(16).toUpperCase().padStart(4, '0')} ${v6 ? '00000000000000000000000000000000:0000' : '00000000:0000'} 07 00000000:00000000 00:00000000 00000000     0        0 ${inode} 2 0000000000000000 ${drops}`;

t.test('rows: port, inode and drops; IPv6; malformed rows skipped', async (t) => {
  const text = [HEADER, row(40000, 1234, 7), row(0xffff, 99, 0, true), '  13: garbage', ''].join('\n');
  t.same(parseProcNetUdp(text), [
    { port: 40000, inode: '1234', drops: 7 },
    { port: 65535, inode: '99', drops: 0 },
  ]);
  t.same(parseProcNetUdp(''), [], 'empty');
});

t.test('the total: in the range only, monotonic when a socket goes, growth counted once', async (t) => {
  let tables: string[] = [];
  const d = new UdpDrops({ min: 40000, max: 40999 }, () => tables);
  tables = [[HEADER, row(40000, 1, 5), row(41000, 2, 100), row(39999, 3, 100)].join('\n')];
  t.equal(d.total(), 5, 'only the socket in the range');
  tables = [[HEADER, row(40000, 1, 8), row(40001, 4, 2)].join('\n')];
  t.equal(d.total(), 10, '+3 on the first, +2 on a new one');
  tables = [[HEADER, row(40001, 4, 2)].join('\n')];
  t.equal(d.total(), 10, 'the first socket closed: its drops stay counted');
  t.equal(d.total(), 10, 'nothing new: the same');
  tables = [];
  t.equal(d.total(), 10, 'no table (not Linux): the same');
});

t.test('a real socket that overflows is counted', { skip: process.platform !== 'linux' }, async (t) => {
  const rx = createSocket({ type: 'udp4', recvBufferSize: 4096 });
  await new Promise<void>((r) =>
    rx.bind(0, '127.0.0.1', () => {
      r();
    }),
  );
  const port = rx.address().port;
  const d = new UdpDrops({ min: port, max: port });
  const before = d.total();
  const tx = createSocket('udp4');
  const payload = Buffer.alloc(1200);
  // Send synchronously in one turn: the receiving socket is not read before the buffer overflows.
  for (let i = 0; i < 200; i++) {
    tx.send(payload, port, '127.0.0.1');
  }
  await new Promise((r) => setTimeout(r, 200));
  const after = d.total();
  t.ok(after - before > 0, `drops counted: ${String(after - before)}`);
  tx.close();
  rx.close();
});
