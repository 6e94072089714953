// Which TCP addresses a process listens on, read from Linux's /proc: the socket inodes among the
// process's open file descriptors, matched against the LISTEN entries of /proc/net/tcp and tcp6.
// This is what the kernel has bound, whatever the service's configuration or logs claim.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ListeningSocket {
  family: 'IPv4' | 'IPv6';
  address: string;
  port: number;
}

const LISTEN = '0A';

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1] as string);
    } catch {
      // the descriptor closed meanwhile
    }
  }
  return inodes;
}

/** `0100007F` -> `127.0.0.1` (the kernel prints the 32-bit address in host byte order, little-endian here). */
function ipv4(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  return [...bytes].reverse().join('.');
}

/** The 128-bit address as four little-endian 32-bit words -> the usual colon form (uncompressed). */
function ipv6(hex: string): string {
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const word = Buffer.from(hex.slice(i, i + 8), 'hex')
      .reverse()
      .toString('hex');
    words.push(word.slice(0, 4), word.slice(4, 8));
  }
  return words.join(':');
}

/** Every TCP socket the process listens on. */
export function listeningSockets(pid: number): ListeningSocket[] {
  const inodes = socketInodes(pid);
  const found: ListeningSocket[] = [];
  for (const [file, family] of [
    ['/proc/net/tcp', 'IPv4'],
    ['/proc/net/tcp6', 'IPv6'],
  ] as const) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length < 10 || columns[3] !== LISTEN || !inodes.has(columns[9] as string)) continue;
      const [address, port] = (columns[1] as string).split(':') as [string, string];
      found.push({
        family,
        address: family === 'IPv4' ? ipv4(address) : ipv6(address),
        port: Number.parseInt(port, 16),
      });
    }
  }
  return found;
}
