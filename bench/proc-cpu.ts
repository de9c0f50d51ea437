/** CPU accounting for the benches: CPU seconds of processes, read from /proc (Linux). */
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100;

/** CPU seconds (user + system, all threads) used so far by a process. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The processes whose command line contains `marker`, and all their descendants. */
export function pidsMatching(marker: string): number[] {
  const procs = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return { pid: Number(d), ppid, cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8') };
      } catch {
        return undefined;
      }
    })
    .filter((p) => p !== undefined);
  const mine = new Set(procs.filter((p) => p.cmd.includes(marker)).map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) grew = mine.add(p.pid) !== undefined;
  }
  return [...mine];
}

/** CPU seconds of a set of processes (those that exited since are not counted). */
export const cpuOf = (pids: number[]): number =>
  pids.reduce((sum, pid) => {
    try {
      return sum + cpuSeconds(pid);
    } catch {
      return sum;
    }
  }, 0);
