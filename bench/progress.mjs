// The progress of a long benchmark, on stderr: stdout carries only the benchmark's JSON
// lines. On a terminal one line is rewritten in place; otherwise (CI logs, a pipe) each
// step is a line of its own, and news within a step at most every 2 s. Each line says how
// far along it is and the time so far.
// Usage: const p = progress("bench:broker", 50); p.step("qos0: ours, 100,000 messages");
// p.clear() before printing a result (on a terminal, the same screen line), and at the end.

/** `total`: the steps expected (shown as n/total), or undefined when unknown. */
export function progress(name, total) {
  const out = process.stderr;
  const tty = out.isTTY === true;
  const began = Date.now();
  let count = 0;
  let shown = false;
  let lastWrite = 0;
  const write = (text) => {
    lastWrite = Date.now();
    const seconds = ((Date.now() - began) / 1000).toFixed(0);
    const line = `${name} ${total === undefined ? "" : `[${count}/${total}] `}${seconds} s: ${text}`;
    if (tty) out.write(`\r\x1b[K${line}`);
    else out.write(line + "\n");
    shown = true;
  };
  return {
    /** A new step begins. */
    step(text) {
      count++;
      write(text);
    },
    /** The current step has news (e.g. boards online so far); not a line of its own more than every 2 s when not on a terminal. */
    update(text) {
      if (tty || Date.now() - lastWrite >= 2_000) write(text);
    },
    /** Clears the line on a terminal (before a result is printed, and at the end); the next step shows it again. */
    clear() {
      if (tty && shown) out.write("\r\x1b[K");
      shown = false;
    },
  };
}
