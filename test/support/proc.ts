/** Linux /proc helpers for benches: the workerd processes under this one, and their memory. */
import { readdirSync, readFileSync } from 'node:fs';

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The workerd processes descending from this one. */
export function workerdPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || commOf(pid) !== 'workerd') continue;
    for (let at: number | null = pid, hops = 0; at && at > 1 && hops < 16; at = parentOf(at), hops++) {
      if (at === process.pid) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** VmRSS and VmHWM in bytes. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(/^(\w+):\s+(\d+) kB/m.exec(status.split('\n').find((l) => l.startsWith(`${key}:`)) ?? '')?.[2] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** The summed RSS of `pids` (a process that went away counts 0). */
export function rssOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += memoryOf(pid).rss;
    } catch {
      // gone
    }
  }
  return total;
}
