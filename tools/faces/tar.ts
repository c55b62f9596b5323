/** Minimal reader for plain (ustar/GNU) tar files: lists members and reads chosen ones. Node only. */
import { closeSync, openSync, readSync } from 'node:fs';

export interface TarMember {
  name: string;
  offset: number;
  size: number;
}

function field(buf: Buffer, start: number, len: number): string {
  const s = buf.subarray(start, start + len);
  const z = s.indexOf(0);
  return s.subarray(0, z < 0 ? len : z).toString('utf8');
}

/** All regular files in the archive, in archive order (GNU long names supported). */
export function listTar(file: string): TarMember[] {
  const fd = openSync(file, 'r');
  const header = Buffer.alloc(512);
  const out: TarMember[] = [];
  let pos = 0;
  let longName: string | null = null;
  try {
    for (;;) {
      if (readSync(fd, header, 0, 512, pos) < 512) break;
      if (header.every((b) => b === 0)) break;
      const size = parseInt(field(header, 124, 12).trim() || '0', 8);
      const type = String.fromCharCode(header[156]!);
      const prefix = field(header, 345, 155);
      let name = field(header, 0, 100);
      if (prefix) name = `${prefix}/${name}`;
      if (longName !== null) {
        name = longName;
        longName = null;
      }
      if (type === 'L') {
        const b = Buffer.alloc(size);
        readSync(fd, b, 0, size, pos + 512);
        longName = field(b, 0, size);
      } else if (type === '0' || type === '\0') {
        out.push({ name, offset: pos + 512, size });
      }
      pos += 512 + Math.ceil(size / 512) * 512;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

export function readTarMember(file: string, m: TarMember): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(m.size);
    readSync(fd, b, 0, m.size, m.offset);
    return b;
  } finally {
    closeSync(fd);
  }
}
