/*
 * Reading state out of a client that runs inside XS (XsHost): a value, or a wait until an
 * expression holds, polling with one evaluate per look. For the XS client suites only; the
 * wait is bounded and says what it waited for, with the XS side's `log`.
 */

import type { XsHost } from "../../host-sim/engines/xs/host.js";
import { sleep } from "../brokers/helpers.js";

/** The value of an expression evaluated in XS. */
export async function xsValue<T>(xs: XsHost, expression: string): Promise<T> {
  return (await xs.evaluate<T>(expression)).value;
}

/** Polls an expression in XS until it is truthy; throws after `timeout` ms with the global `log`. */
export async function xsUntil(xs: XsHost, expression: string, what: string, timeout = 5_000): Promise<void> {
  const until = Date.now() + timeout;
  for (;;) {
    if ((await xs.evaluate<boolean>(`!!(${expression})`)).value) return;
    if (Date.now() >= until) {
      const log = (await xs.evaluate("JSON.stringify(log)")).value;
      throw new Error(`timed out after ${timeout} ms waiting in XS for ${what}; client log: ${log}`);
    }
    await sleep(20);
  }
}
