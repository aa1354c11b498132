/*
 * What the dashboard reads and drives, as a narrow interface (DashboardSource): the boards'
 * ids, a board's snapshot, fleet totals and the world's controls (a chip's reading, a
 * board's network, the embedded broker's restart). simulatorSource() implements it over a
 * Simulator in this process; a process that gathers boards from elsewhere can implement it
 * over its own snapshots. It never publishes MQTT itself (the server does, as Home
 * Assistant would). Node side only.
 */

import { latestError, shortError } from "../cli/cli-errors.js";
import type { FleetBoard } from "../board.js";
import type { Simulator } from "../simulator.js";

/** A board as the dashboard shows it: plain data, safe to send as JSON. */
export interface BoardRow {
  id: string;
  /** "connecting", "online", "offline", "asleep", "aborted", or "no wifi" while its Wi-Fi is down. */
  status: string;
  readings: { key: string; name: string; unit: string | null; value: number | null }[];
  actuators: { id: string; name: string; state: string }[];
  sent: number;
  received: number;
  /** Whether its network link is cut (setNetwork(id, false)). */
  cut: boolean;
  /** The latest client error in its log, short ("connection refused"), or null. */
  error: string | null;
}

/** Fleet totals now. */
export interface FleetTotals {
  boards: number;
  online: number;
  /** PUBLISH packets the boards sent plus messages they received, since their start. */
  messages: number;
}

export interface DashboardSource {
  /** The broker the boards use (the dashboard's own MQTT client connects there). */
  readonly brokerUrl: string;
  /** PEM CA for an mqtts:// broker. */
  readonly ca: string | undefined;
  /** Whether the broker is the simulator's embedded one (restartBroker works only then). */
  readonly embeddedBroker: boolean;
  /** The boards' ids, in order. */
  ids(): readonly string[];
  totals(): FleetTotals;
  /** A board's status as BoardRow.status gives it, or undefined for an unknown id. */
  status(id: string): string | undefined;
  /** A board's snapshot, or undefined for an unknown id. */
  row(id: string): BoardRow | undefined;
  /** A board's latest readings alone (what its history records), or undefined for an unknown id. */
  readings(id: string): BoardRow["readings"] | undefined;
  /** The topic an actuator's commands go to, or undefined for an unknown board or actuator. */
  commandTopic(id: string, actuator: string): string | undefined;
  /** The topic filters a board's messages travel on (its state, status and command topics, its discovery configs). */
  messageFilters(id: string): string[] | undefined;
  /** Sets a chip's values (on a board in a worker process too); a message saying what is wrong, or undefined when done. */
  setChip(id: string, chip: string, values: Record<string, number>): Promise<string | undefined>;
  /** Cuts (false) or restores (true) a board's network link; a message saying what is wrong, or undefined when done. */
  setNetwork(id: string, up: boolean): string | undefined;
  /** Restarts the embedded broker (its clients reconnect); rejects for an external broker. */
  restartBroker(): Promise<void>;
}

/** The chips of a simulated board and the values each takes. */
const CHIPS: Readonly<Record<string, readonly string[]>> = { sht3x: ["temperature", "humidity"], bh1750: ["illuminance"] };

export function simulatorSource(sim: Simulator<FleetBoard>, ca?: string): DashboardSource {
  const ids = sim.boards.map((board) => board.id);
  /** The boards whose link the dashboard cut. */
  const cut = new Set<string>();
  const status = (id: string): string | undefined => {
    const board = sim.board(id);
    if (board === undefined) return undefined;
    return board.wifi.up || board.status === "aborted" ? board.status : "no wifi";
  };
  const readings = (id: string): BoardRow["readings"] | undefined =>
    sim.board(id)?.readings.map((r) => ({ key: r.key, name: r.name, unit: r.unit ?? null, value: r.value }));
  return {
    brokerUrl: sim.brokerUrl,
    ca,
    embeddedBroker: sim.embeddedBroker,
    ids: () => ids,
    totals() {
      let online = 0;
      let messages = 0;
      for (const board of sim.boards) {
        if (board.status === "online") online++;
        const stats = board.stats;
        messages += stats.sent + stats.received;
      }
      return { boards: ids.length, online, messages };
    },
    status,
    row(id) {
      const board = sim.board(id);
      if (board === undefined) return undefined;
      const stats = board.stats;
      const error = latestError(board.log);
      return {
        id,
        status: status(id)!,
        readings: readings(id)!,
        actuators: board.actuators.map((a) => ({ id: a.id, name: a.name, state: a.state })),
        sent: stats.sent,
        received: stats.received,
        cut: cut.has(id),
        error: error === undefined ? null : shortError(error),
      };
    },
    readings,
    commandTopic(id, actuator) {
      const board = sim.board(id);
      if (board === undefined || !board.config.actuators.some((a) => a.id === actuator)) return undefined;
      return board.topics.command(actuator);
    },
    messageFilters(id) {
      const board = sim.board(id);
      if (board === undefined) return undefined;
      const config = board.config;
      return [`${config.prefix}/${config.nodeId}/#`, `${config.discoveryPrefix}/+/${config.nodeId}/#`];
    },
    async setChip(id, chip, values) {
      const board = sim.board(id);
      if (board === undefined) return `no board ${JSON.stringify(id)}`;
      const keys = CHIPS[chip];
      if (keys === undefined) return `no chip ${JSON.stringify(chip)}: sht3x or bh1750`;
      const given: Record<string, number> = {};
      for (const [key, value] of Object.entries(values)) {
        if (!keys.includes(key)) return `${chip} has no ${JSON.stringify(key)}: ${keys.join(" or ")}`;
        if (typeof value !== "number" || !Number.isFinite(value)) return `${key} must be a number`;
        given[key] = value;
      }
      try {
        await board.setChip(chip === "sht3x" ? "sht3x" : "bh1750", given);
      } catch (error) {
        return (error as Error).message;
      }
      return undefined;
    },
    setNetwork(id, up) {
      const board = sim.board(id);
      if (board === undefined) return `no board ${JSON.stringify(id)}`;
      if (board.status === "aborted") return `${id} aborted: it runs nothing more`;
      if (up) board.restoreNetwork();
      else board.cutNetwork();
      if (up) cut.delete(id);
      else cut.add(id);
      return undefined;
    },
    restartBroker: () => sim.restartBroker(),
  };
}
