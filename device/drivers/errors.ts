/*
 * The drivers' one error type and its stable codes. A driver throws a SensorError when a
 * reading cannot be trusted or the driver cannot be used; "not ready yet" is not an error
 * (sample() returns undefined). Must not hold run-time state: preloaded and frozen on the
 * device.
 */

export type SensorErrorCode =
  /** A word's CRC-8 did not match: bus noise or a loose wire. The next sample measures again. */
  | "crc-mismatch"
  /** The chip stopped acknowledging: unplugged, unpowered, or a wrong address. */
  | "no-answer"
  /** A configure() or constructor option is out of range. */
  | "option-invalid"
  /** The driver was closed. */
  | "closed";

export class SensorError extends Error {
  readonly code: SensorErrorCode;
  constructor(code: SensorErrorCode, message: string) {
    super(message);
    this.name = "SensorError";
    this.code = code;
  }
}
