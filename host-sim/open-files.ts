/*
 * The process's open-file limit. Each simulated board holds a socket (and with the
 * embedded broker the broker holds the other end; on the XS engine a board's worker adds
 * its pipes), so a fleet of thousands needs more than the 1,024 open files some systems
 * allow. Node raises its soft limit to the hard one when it starts, so the hard limit is
 * what counts: only `ulimit -Hn` (as root) or the system's configuration raises it.
 * Linux only (the limits come from /proc/self/limits); elsewhere the limit is unknown.
 * Node side only.
 */

import { readFileSync } from "node:fs";

/** The most files this process may open (Infinity when unlimited), or undefined where that cannot be read. */
export function openFileLimit(): number | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
  const soft = text.split("\n").find((line) => line.startsWith("Max open files"))?.split(/\s+/)[3];
  if (soft === undefined) return undefined;
  const limit = soft === "unlimited" ? Infinity : Number(soft);
  return Number.isNaN(limit) ? undefined : limit;
}
