// The log plugin's query line, in CoreDNS's common log format:
//   [INFO] 10.244.1.5:40123 - 4711 "A IN web.default.svc.cluster.local. udp 59 false 512" NOERROR qr,aa,rd 106 0.000123s
import { decodeMessage } from './decode.js';
import { rcodeName, typeName } from './wire.js';

/** The request fields the line needs. */
export interface QueryLogRequest {
  qtype: number;
  id: number;
  do: boolean;
  edns: boolean;
  udpSize: number;
  qnameEnd: number;
}

/** The header flags of a reply as dig and CoreDNS print them. Pure. */
export function flagText(buf: Buffer): string {
  const f: string[] = ['qr'];
  const b2 = buf[2]!;
  const b3 = buf[3]!;
  if (b2 & 0x04) f.push('aa');
  if (b2 & 0x02) f.push('tc');
  if (b2 & 0x01) f.push('rd');
  if (b3 & 0x80) f.push('ra');
  if (b3 & 0x20) f.push('ad');
  if (b3 & 0x10) f.push('cd');
  return f.join(',');
}

/** One query's line: `name` when the caller has the question decoded already, else it is decoded from `req`. */
export function queryLogLine(req: Buffer, r: QueryLogRequest, out: Buffer, tcp: boolean, remote: string, t0: number, name?: string): string {
  let qname = name;
  if (qname === undefined) {
    try {
      qname = decodeMessage(req).question[0]?.name ?? '.';
    } catch {
      qname = '?';
    }
  }
  const bufsize = tcp ? 65535 : r.edns ? Math.max(512, r.udpSize) : 512;
  const secs = ((performance.now() - t0) / 1000).toFixed(9).replace(/0+$/, '');
  return `[INFO] ${remote} - ${r.id} "${typeName(r.qtype)} IN ${qname} ${tcp ? 'tcp' : 'udp'} ${req.length} ${r.do} ${bufsize}" ${rcodeName(out[3]! & 0xf)} ${flagText(out)} ${out.length} ${secs}s`;
}
