/*
 * Which boards a shard runs: the fleet's board numbers 1..devices cut into `count`
 * contiguous slices, slice `index` (from 1) of them, the same on every machine, so a
 * board keeps its number, node id and seed whichever shard or worker runs it. Also the
 * `--shard I/N` text, a Kubernetes Indexed Job's environment (JOB_COMPLETION_INDEX from 0,
 * JOB_COMPLETIONS) and the default number of worker processes. Pure functions; they start
 * nothing. Node side only.
 */

import { availableParallelism } from "node:os";

/** Slice `index` of `count` (index from 1). */
export interface Shard {
  index: number;
  count: number;
}

/** Board numbers first..last (both included); empty when last < first. */
export interface BoardRange {
  first: number;
  last: number;
}

/** The boards of slice `shard.index` of `shard.count` of first..last: contiguous, sizes differing by at most one. */
export function sliceRange(range: BoardRange, shard: Shard): BoardRange {
  const size = Math.max(0, range.last - range.first + 1);
  const start = Math.floor((size * (shard.index - 1)) / shard.count);
  const end = Math.floor((size * shard.index) / shard.count);
  return { first: range.first + start, last: range.first + end - 1 };
}

/** How many boards a range holds. */
export function rangeSize(range: BoardRange): number {
  return Math.max(0, range.last - range.first + 1);
}

/** Throws a RangeError unless `shard` is a whole index from 1 to a whole count of at least 1. */
export function checkShard(shard: Shard): void {
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 1 || shard.index > shard.count) {
    throw new RangeError(`shard must be I/N with N a whole number from 1 and I from 1 to N, not ${shard.index}/${shard.count}`);
  }
}

/** "I/N" (I from 1 to N); undefined when the text is not of that form. */
export function parseShard(text: string): Shard | undefined {
  const found = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (found === null) return undefined;
  const shard = { index: Number(found[1]), count: Number(found[2]) };
  return shard.count >= 1 && shard.index >= 1 && shard.index <= shard.count ? shard : undefined;
}

/**
 * The shard of a Kubernetes Indexed Job's pod: JOB_COMPLETION_INDEX (0 to N-1) and
 * JOB_COMPLETIONS (N) give slice index+1 of N. undefined when JOB_COMPLETION_INDEX is not
 * set; an Error naming the variables when they are set but do not make a shard.
 */
export function shardFromEnvironment(env: NodeJS.ProcessEnv): Shard | Error | undefined {
  const index = env.JOB_COMPLETION_INDEX;
  if (index === undefined) return undefined;
  const count = env.JOB_COMPLETIONS;
  const shard = count === undefined || !/^\d+$/.test(index.trim()) ? undefined : parseShard(`${Number(index) + 1}/${count}`);
  if (shard === undefined) {
    return new Error(`JOB_COMPLETION_INDEX=${JSON.stringify(index)} and JOB_COMPLETIONS=${JSON.stringify(count ?? null)} do not make a shard: ` +
      "an Indexed Job sets the index from 0 to completions - 1; set JOB_COMPLETIONS to the job's completions (deploy/kubernetes/fleet-job.yaml does)");
  }
  return shard;
}

/** The default number of worker processes for `boards` boards: the cores, at most one per board, at least one. */
export function defaultWorkers(boards: number): number {
  return Math.max(1, Math.min(availableParallelism(), boards));
}
