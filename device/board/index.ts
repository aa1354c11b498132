/*
 * The firmware as a board runs it: the sensor-node firmware (device/app), its I²C drivers
 * and the board's sensor wiring, in one module. It is the entry of the firmware bundle
 * (dist/firmware.js, which the simulator's boards run on Node and inside XS) and what the
 * board's own entry (device/main.ts) starts from. Re-exports only; nothing runs at load.
 */

export { ConfigError, resolveConfig } from "../app/config.js";
export type {
  ActuatorConfig, BrokerConfig, Config, DeviceInfo, FirmwareConfig, ReadingConfig, SensorConfig, SensorSpec, SleepConfig, StatusLedConfig,
} from "../app/config.js";
export { startFirmware } from "../app/firmware.js";
// MQTT 5.0's code, for a board whose configuration asks for protocol version 5 (startFirmware's mqtt5)
export { mqtt5 } from "../mqtt/index.js";
export type {
  ActuatorState, ClientBuffers, Firmware, FirmwareCounts, FirmwareOptions, FirmwareStatus, ReadingState, ResolvedFirmwareOptions,
} from "../app/firmware.js";
export type { FirmwareIo, Sensor, SleepIo, WiFiInterface, WiFiInterfaceClass, WifiCredentials } from "../app/io.js";
export { commandTopic, stateTopic, statusTopic } from "../app/topics.js";
export { BH1750 } from "../drivers/bh1750.js";
export { SHT3x } from "../drivers/sht3x.js";
export { buildSensors, climateSensor, lightSensor, SENSOR_DRIVERS } from "./sensors.js";
export type { SensorBus } from "./sensors.js";
