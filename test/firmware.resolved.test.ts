// startFirmware() with a configuration resolved already (`resolved`, as the simulator hands
// it on after resolving it once): the node runs on that very object, and checks it no more;
// with `config` it checks and completes the configuration itself. No broker: the socket
// never opens.
import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../device/app/config.js";
import type { Config } from "../device/app/config.js";
import { startFirmware } from "../device/app/firmware.js";
import type { FirmwareIo } from "../device/app/io.js";

/** IO whose socket never connects; it counts the sockets opened. */
function quietIo(): { io: FirmwareIo; sockets: () => number } {
  let sockets = 0;
  class Socket {
    constructor() {
      sockets++;
    }
    read() {
      return undefined;
    }
    write() {
      return 0;
    }
    close() {}
  }
  const io = {
    TCP: Socket,
    Timer: { repeat: () => ({}), clear: () => {} },
    TextEncoder,
    TextDecoder,
  } as unknown as FirmwareIo;
  return { io, sockets: () => sockets };
}

describe("startFirmware's configuration", () => {
  it("runs on a resolved configuration as it is: the same object, not checked again", () => {
    const resolved = resolveConfig({ nodeId: "resolved-once", broker: { host: "127.0.0.1" } });
    const { io, sockets } = quietIo();
    const firmware = startFirmware({ resolved, io });
    try {
      expect(firmware.config).toBe(resolved);
      expect(sockets()).toBe(1);
    } finally {
      firmware.stop();
    }
    // a resolved configuration is trusted: what resolveConfig() would refuse is not looked at again
    const unchecked = { ...resolved, nodeId: "not checked!" } as Config;
    const second = startFirmware({ resolved: unchecked, io: quietIo().io });
    expect(second.config.nodeId).toBe("not checked!");
    second.stop();
  });

  it("checks and completes a configuration as written", () => {
    const { io } = quietIo();
    const firmware = startFirmware({ config: { nodeId: "written", broker: { host: "127.0.0.1" } }, io });
    expect(firmware.config.prefix).toBe("xs-mqtt");
    expect(firmware.config.broker.port).toBe(1883);
    firmware.stop();
    expect(() => startFirmware({ config: { nodeId: "not valid!", broker: { host: "127.0.0.1" } }, io })).toThrow(ConfigError);
  });
});
