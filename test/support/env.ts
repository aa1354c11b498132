/*
 * Whole-number settings of the test runs from the environment (FUZZ_STREAMS, FUZZ_SEED):
 * the fallback when unset or empty, an Error naming the variable for anything but a whole
 * number of 0 or more. Reads process.env only.
 */

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(name + " must be a whole number, not " + JSON.stringify(raw));
  return value;
}
