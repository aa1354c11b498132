// The example of docs/simulator.md's "Testing your firmware in CI", run as a test so that it
// keeps working. The page quotes everything below this comment (test/docs-examples.test.ts
// checks that it does): change the two together.
import { connectAsync } from "mqtt";
import { expect, it } from "vitest";
import { RELAY_PIN, startSimulator } from "../host-sim/simulator.js";

it("publishes readings, obeys the relay and goes offline with its link", async () => {
  // 2 boards running dist/firmware.js on Node, against an embedded broker on a free port
  const sim = await startSimulator({ devices: 2, seed: 1 });
  try {
    const board = sim.board("board-1")!;
    await sim.waitForMessage(board.topics.status, { predicate: (m) => m.payload === "online" });

    // a chip value -> the board's JSON state on xs-mqtt/board-1/climate/state
    const reading = sim.waitForMessage(board.topics.state("climate"), {
      predicate: (m) => JSON.parse(m.payload).temperature === 25.5,
    });
    await reading.subscribed; // subscribed before the change: the message cannot be missed
    board.chip("sht3x").set({ temperature: 25.5, humidity: 40 });
    expect(JSON.parse((await reading).payload)).toEqual({ temperature: 25.5, humidity: 40 });

    // "ON" on the relay's command topic, as Home Assistant sends it -> pin high, state ON
    const relayOn = sim.waitForMessage(board.topics.state("relay"), { predicate: (m) => m.payload === "ON" });
    await relayOn.subscribed;
    const homeAssistant = await connectAsync(sim.brokerUrl);
    await homeAssistant.publishAsync(board.topics.command("relay"), "ON", { qos: 1 });
    await relayOn;
    expect(board.pin(RELAY_PIN)).toBe(1);
    await homeAssistant.endAsync();

    // cut the board's network: the broker publishes its will ("offline"); restore: back online
    const offline = sim.waitForMessage(board.topics.status, { predicate: (m) => m.payload === "offline" });
    await offline.subscribed;
    board.cutNetwork();
    await offline;
    const online = sim.waitForMessage(board.topics.status, { predicate: (m) => m.payload === "online" });
    await online.subscribed;
    board.restoreNetwork();
    await online;
  } finally {
    await sim.stop(); // every board publishes "offline" and disconnects; the broker closes
  }
}, 15_000);
