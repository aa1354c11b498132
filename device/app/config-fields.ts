/*
 * The field checks of a configuration and the error they report: ConfigError, and small
 * functions that each check one field, record a mistake in the part's list and go on with a
 * stand-in value, so that resolveConfig() (config.ts) names every mistake at once. Pure
 * functions; no state (preloaded and frozen on the device).
 */

import { isWhole } from "../mqtt/index.js";

/**
 * A configuration mistake: `field` says where (e.g. "sensors[1].readings[0].decimals").
 * resolveConfig() names every mistake it finds: `mistakes` lists them (this error alone
 * when there is one; the message then names them all, one a line).
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError"; // a field: see MqttError (frozen Error.prototype)
  readonly field: string;
  readonly mistakes: readonly ConfigError[];
  constructor(field: string, problem: string, mistakes?: readonly ConfigError[]) {
    super(mistakes === undefined || mistakes.length < 2
      ? "config " + field + ": " + problem
      : "config has " + mistakes.length + " mistakes:\n  " + mistakes.map((m) => m.message).join("\n  "));
    this.field = field;
    this.mistakes = mistakes === undefined || mistakes.length < 2 ? [this] : mistakes;
  }
}

/** Mistakes found so far in one part (an entity, or the configuration's own fields). */
export type Found = ConfigError[];

/** Records a mistake; returns `value` so that a check can go on with a stand-in. */
export function mistake<T>(found: Found, at: string, problem: string, value: T): T {
  found.push(new ConfigError(at, problem));
  return value;
}

// ---- field checks: each records a mistake in `found` and goes on with a stand-in value

/** `value` when it is a plain object; else the mistake is recorded and undefined returned. */
export function objectAt(found: Found, value: unknown, at: string): object | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return mistake(found, at, "must be an object", undefined);
  return value;
}

export function optionalObject(found: Found, value: unknown, at: string): object {
  return (value === undefined ? undefined : objectAt(found, value, at)) ?? {};
}

export function list<T>(found: Found, value: readonly T[] | undefined, at: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return mistake(found, at, "must be a list", []);
  return value;
}

export function whole(found: Found, value: unknown, fallback: number | undefined, min: number, max: number, at: string): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!isWhole(value, min, max)) return mistake(found, at, "must be a whole number from " + min + " to " + max, 0);
  return value;
}

export function flag(found: Found, value: unknown, fallback: boolean, at: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") return mistake(found, at, "must be true or false", fallback);
  return value;
}

export function text(found: Found, value: unknown, fallback: string, at: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.length === 0) return mistake(found, at, "must be a non-empty string", fallback);
  return value;
}

export function optionalText(found: Found, value: unknown, at: string): string | undefined {
  return value === undefined ? undefined : text(found, value, "", at);
}

/** 1 to 32 of A-Z a-z 0-9 _ - (what Home Assistant allows in a node id and object id). */
export function id(found: Found, value: unknown, at: string): string {
  const problem = "must be 1 to 32 characters of A-Z a-z 0-9 _ -";
  if (typeof value !== "string" || value.length === 0 || value.length > 32) return mistake(found, at, problem, "");
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (!isWordChar(code) && code !== 0x2d) return mistake(found, at, problem, "");
  }
  return value;
}

/** A JSON key usable as-is in a Home Assistant template (value_json.<key>). */
export function isKey(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > 32) return false;
  const first = value.charCodeAt(0);
  if (first >= 0x30 && first <= 0x39) return false;
  for (let i = 0; i < value.length; i++) if (!isWordChar(value.charCodeAt(i))) return false;
  return true;
}

function isWordChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f;
}

/** A topic prefix: not empty, no wildcards, no NUL, no "/" at either end. */
export function topicPrefix(found: Found, value: unknown, fallback: string, at: string): string {
  const prefix = text(found, value, fallback, at);
  const bad = prefix.indexOf("+") >= 0 || prefix.indexOf("#") >= 0 || prefix.indexOf("\u0000") >= 0 ||
    prefix.charAt(0) === "/" || prefix.charAt(prefix.length - 1) === "/";
  if (bad) return mistake(found, at, "must be a topic without wildcards, NUL, or a leading or trailing /", fallback);
  return prefix;
}
