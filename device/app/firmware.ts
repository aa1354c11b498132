/*
 * The sensor node: startFirmware() wires the configuration, the sensors, the actuators'
 * pins and the MQTT client together and runs them on the timers it is handed.
 *  - Every sampleInterval it samples each sensor and publishes a sensor's JSON state
 *    (QoS 0, retained) when a reading moved past its deadband, or after maxSilence.
 *  - "ON"/"OFF"/"TOGGLE" (any letter case) on <prefix>/<node>/<id>/set drive an actuator's
 *    pin; its state is published retained (QoS 1) on <prefix>/<node>/<id>/state. Bad
 *    commands are reported, not thrown.
 *  - On every connect: the "online" birth, the Home Assistant discovery configs, every
 *    actuator state and every sensor state, paced so the outbox never overflows; the same
 *    again (but the birth) when Home Assistant announces itself online.
 *  - Diagnostics (uptime, Wi-Fi RSSI, IP address) every diagnosticsInterval, a restart
 *    button, and no connection attempts while Wi-Fi is down: health.ts.
 *  - stop() publishes "offline" (a graceful close never fires the will) and closes.
 * With config.sleep the node is a battery node instead (battery.ts): one wake, then deep sleep.
 * Its shapes are in firmware-types.ts, the client's buffer sizes in sizing.ts and the order
 * of the messages after a connect in publish-plan.ts. All IO comes in through the options:
 * this module imports nothing from Node or Moddable. In the steady state (sampling and
 * publishing readings) nothing is allocated here beyond what a sensor's sample() returns.
 */

import { MqttClient, Ticker } from "../mqtt/index.js";
import type { Message, MqttError, PublishStatus, TextDecoderLike, TimerId } from "../mqtt/index.js";
import { Actuator, COMMAND_INVALID, COMMAND_ON, COMMAND_TOGGLE } from "./actuators.js";
import { availabilityWill, OFFLINE_BYTES, ONLINE_BYTES, RETAINED_QOS1 } from "./availability.js";
import { BatteryNode } from "./battery.js";
import { ConfigError, resolveConfig } from "./config.js";
import type { Config, SensorSpec } from "./config.js";
import { DiagnosticsState, diagnosticEntities } from "./diagnostics.js";
import { Discovery } from "./discovery.js";
import type {
  ActuatorState, Firmware, FirmwareCounts, FirmwareOptions, FirmwareParts, ReadingState, ResolvedFirmwareOptions,
} from "./firmware-types.js";
import { Health } from "./health.js";
import type { DigitalClass, FirmwareIo, Sensor } from "./io.js";
import { Pacer, SKIP, WAIT } from "./pacer.js";
import { ITEM_ACTUATOR, ITEM_BARRIER, ITEM_BIRTH, ITEM_DIAGNOSTICS, ITEM_DISCOVERY, PublishPlan } from "./publish-plan.js";
import { brokerOptions, nowOf, pushReadingValues, readingStates, say, taken, tellStatus, zeroCounts } from "./node-parts.js";
import { ReadingsMemory, SAMPLE_DUE, SAMPLE_FAILED, SAMPLE_NOT_READY, SensorReadings } from "./readings.js";
import { clientBufferSizes, nodeSizes } from "./sizing.js";
import { IDLE_TICK_MS, MAX_IDLE_TICK_MS, ONLINE, StatusLed, TICK_MS } from "./status-led.js";
import type { FirmwareStatus } from "./status-led.js";
import { commandTopic, discoveryManifestTopic, homeAssistantStatusTopic, statusTopic, Topics } from "./topics.js";

export type {
  ActuatorState, ClientBuffers, Firmware, FirmwareCounts, FirmwareOptions, FirmwareParts, FirmwareStatus, ReadingState,
  ResolvedFirmwareOptions,
} from "./firmware-types.js";

/**
 * Starts the node. Throws ConfigError for a bad configuration, MqttError for bad client
 * options. `config` is checked by resolveConfig() here; `resolved` (what resolveConfig()
 * returned, e.g. where a simulator checked it first) is used as it is.
 */
export function startFirmware(options: FirmwareOptions | ResolvedFirmwareOptions): Firmware {
  if (options === null || typeof options !== "object") throw new ConfigError("(options)", "startFirmware needs an options object");
  const config = options.config === undefined && "resolved" in options ? options.resolved : resolveConfig(options.config);
  // battery mode: one wake, then deep sleep (battery.ts)
  return config.sleep === undefined ? new SensorNode(config, options) : new BatteryNode(config, options);
}

/**
 * A sensor state: QoS 0, kept in the outbox rather than dropped when the link is momentarily
 * full, and retained, so that Home Assistant gets the latest value whenever it subscribes
 * (after its restart, or once it has read a discovery config).
 */
const SENSOR_STATE = Object.freeze({ qos: 0, queue: true, retain: true });
/** A QoS 0 retained fallback for "offline" at stop when the outbox is full. */
const RETAINED_QOS0 = Object.freeze({ qos: 0, retain: true });

/** The driver given for a sensor, if it is one (it has sample()). */
function driverOf(sensors: Readonly<Record<string, Sensor | undefined>>, spec: SensorSpec): Sensor | undefined {
  const given = sensors[spec.id];
  return given !== undefined && typeof given.sample === "function" ? given : undefined;
}

/** Longest command text quoted in a log line. */
const COMMAND_PREVIEW = 40;

class SensorNode implements Firmware {
  readonly config: Config;
  readonly client: MqttClient;
  readonly counts: FirmwareCounts = zeroCounts();

  readonly #io: FirmwareIo;
  readonly #log: ((line: string) => void) | undefined;
  readonly #onStatus: ((status: FirmwareStatus) => void) | undefined;
  /** Made on first use (a bad command's preview). */
  #decoder: TextDecoderLike | undefined = undefined;
  readonly #topics: Topics;
  readonly #discovery: Discovery | undefined;
  /** Where the discovery manifest is kept (undefined without discovery). */
  readonly #manifestTopic: string | undefined;
  /** Home Assistant's status topic (undefined without discovery). */
  readonly #homeAssistantStatusTopic: string | undefined;
  /** Each actuator's command topic, in configuration order. */
  readonly #commandTopics: string[];
  readonly #channels: SensorReadings[];
  readonly #actuators: Actuator[];
  readonly #led: StatusLed | undefined;
  readonly #pacer: Pacer;
  readonly #plan: PublishPlan;
  readonly #health: Health;
  readonly #sampleTimer: TimerId;
  /** The housekeeping tick: TICK_MS while the LED blinks, a join waits or publishes are pending; else until the diagnostics are due (at least IDLE_TICK_MS, at most MAX_IDLE_TICK_MS). */
  readonly #ticker = new Ticker();
  #status: FirmwareStatus = "connecting";
  #ticks = 0;
  #sampledOnce = false;
  #stopped = false;
  /** The manifest is to go out when the outbox has room (its SUBACK came while the burst filled it). */
  #manifestDue = false;

  constructor(config: Config, options: FirmwareParts) {
    this.config = config;
    const io = this.#io = options.io;
    this.#log = options.log;
    this.#onStatus = options.onStatus;
    const Digital = options.Digital;
    if (Digital === undefined && (config.actuators.length > 0 || config.statusLed !== undefined)) {
      throw new ConfigError("Digital", "actuators and the status LED need the Digital class: pass it as options.Digital");
    }
    const sensors = options.sensors ?? {};
    // one memory for every sensor's readings, with one JSON buffer for all: a state is
    // written and handed to the client (which copies it) in one go
    const memory = new ReadingsMemory(config.sensors);
    // (loops, not callbacks, here and below: on V8 the closures a constructor makes share one
    // context, kept as long as the longest-lived of them, the client's callbacks; so no
    // closure here sees a local the node does not keep)
    // (arrays made at their length: one grown by push keeps room for 17)
    const specs = config.sensors;
    const channels: SensorReadings[] = this.#channels = new Array<SensorReadings>(specs.length);
    let running = 0;
    for (let i = 0; i < specs.length; i++) {
      const sensor = driverOf(sensors, specs[i]);
      if (sensor === undefined) this.#say("sensor " + specs[i].id + ": no driver was given; it is neither announced nor published");
      else running++;
      channels[i] = new SensorReadings(specs[i], sensor, config.maxSilence, memory);
    }
    const started = new Array<SensorSpec>(running);
    running = 0;
    for (const spec of specs) if (driverOf(sensors, spec) !== undefined) started[running++] = spec;
    // Home Assistant hears only of the sensors that run
    const diagnostics = diagnosticEntities(config, io.WiFi !== undefined, options.restart !== undefined);
    const discovery = this.#discovery = config.discovery ? new Discovery(config, started, diagnostics) : undefined;
    const manifestTopic = this.#manifestTopic = discovery === undefined ? undefined : discoveryManifestTopic(config);
    const encoder = new io.TextEncoder();
    const buffers = clientBufferSizes(nodeSizes(config, discovery, encoder), options.buffers ?? {}, this.#channels.length);

    const node = this;
    // (the broker's options spread last: V8 gives a literal that spreads first and then adds
    // properties a hidden class of its own, about 700 bytes per client of a fleet)
    this.client = new MqttClient({
      will: availabilityWill(statusTopic(config)),
      receiveBufferSize: buffers.receiveBufferSize,
      outboxMessages: buffers.outboxMessages,
      transmitBufferSize: buffers.transmitBufferSize,
      outboxBytes: buffers.outboxBytes,
      maxSubscriptions: config.actuators.length + 4,
      io,
      onConnected() {
        node.#onConnected();
      },
      onDisconnected(reason) {
        node.#onDisconnected(reason);
      },
      onPublished() {
        node.#pump();
      },
      onSubscribed(filter) {
        node.#onSubscribed(filter);
      },
      onError(error) {
        node.#say("mqtt " + error.code + ": " + error.message);
      },
      ...brokerOptions(config, io, options.mqtt5),
    });
    const client = this.client;
    this.#topics = new Topics(config, encoder);
    const state = config.diagnosticsInterval > 0 ? new DiagnosticsState(config, encoder) : undefined;
    const health = this.#health = new Health(config, io, client, state, options.restart, this.#log, this);

    const actuators: Actuator[] = this.#actuators = new Array<Actuator>(config.actuators.length);
    for (let i = 0; i < actuators.length; i++) {
      const spec = config.actuators[i];
      try {
        actuators[i] = new Actuator(spec, Digital);
      } catch (error) {
        this.#say("actuator " + spec.id + ": pin " + spec.pin + " could not be opened (" + String(error) + "); its state is kept without a pin");
        actuators[i] = new Actuator(spec, undefined);
      }
    }
    let led: StatusLed | undefined;
    if (config.statusLed !== undefined) {
      try {
        led = new StatusLed(config.statusLed, Digital as DigitalClass);
      } catch (error) {
        this.#say("status LED: pin " + config.statusLed.pin + " could not be opened (" + String(error) + ")");
      }
    }
    this.#led = led;

    // the pacer's items, in the order they go out after a connect (publishItem())
    const plan = this.#plan = new PublishPlan(discovery === undefined ? 0 : discovery.count, this.#actuators.length, this.#channels.length,
      health.publishes);
    this.#pacer = new Pacer(plan.count, this);

    // one handler for the node's subscriptions, told apart by topic (#onMessage)
    const onMessage = (message: Message): void => this.#onMessage(message);
    const commandTopics = this.#commandTopics = new Array<string>(actuators.length);
    for (let index = 0; index < actuators.length; index++) {
      commandTopics[index] = commandTopic(config, actuators[index].spec);
      client.subscribe(commandTopics[index], { qos: 1 }, onMessage);
    }
    this.#homeAssistantStatusTopic = discovery === undefined ? undefined : homeAssistantStatusTopic(config);
    if (discovery !== undefined) {
      client.subscribe(this.#homeAssistantStatusTopic as string, { qos: 1 }, onMessage);
      client.subscribe(manifestTopic as string, { qos: 1 }, onMessage);
    }

    this.#led?.show(this.#status, 0);
    this.#say("connecting to " + config.broker.host + ":" + config.broker.port + " as " + config.broker.clientId);
    client.connect();
    this.#sampleTimer = io.Timer.repeat(() => this.#sampleTick(), config.sampleInterval);
    this.#ticker.start(io.Timer, () => this.#tick(), TICK_MS);
  }

  get status(): FirmwareStatus {
    return this.#status;
  }

  readings(): ReadingState[] {
    return readingStates(this.#channels);
  }

  actuators(): ActuatorState[] {
    return this.#actuators.map((actuator) => ({ id: actuator.spec.id, name: actuator.spec.name, state: actuator.on ? "ON" : "OFF" }));
  }

  pushReadingValues(out: (number | null)[]): number {
    return pushReadingValues(this.#channels, out);
  }

  pushActuatorStates(out: (number | null)[]): number {
    const actuators = this.#actuators;
    for (let i = 0; i < actuators.length; i++) out.push(actuators[i].on ? 1 : 0);
    return actuators.length;
  }

  sampleNow(): void {
    if (this.#stopped) return;
    const channels = this.#channels;
    const now = this.#now();
    for (let i = 0; i < channels.length; i++) {
      const channel = channels[i];
      const failuresBefore = channel.failures;
      const result = channel.sample(now);
      if (result === SAMPLE_FAILED) {
        this.counts.sampleFailures++;
        if (failuresBefore === 0) this.#say("sensor " + channel.spec.id + ": sample failed: " + String(channel.lastError));
        continue;
      }
      if (failuresBefore > 0) this.#say("sensor " + channel.spec.id + ": sampling again after " + failuresBefore + " failures");
      if (result === SAMPLE_NOT_READY) continue;
      this.counts.samples++;
      if (result === SAMPLE_DUE) this.#pacer.request(this.#plan.sensorItem(i));
    }
    this.#pump();
  }

  setActuator(id: string, on: boolean): boolean {
    if (this.#stopped) return false;
    const actuators = this.#actuators;
    for (let i = 0; i < actuators.length; i++) {
      if (actuators[i].spec.id !== id) continue;
      this.#apply(i, on);
      return true;
    }
    return false;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const io = this.#io;
    io.Timer.clear(this.#sampleTimer);
    this.#ticker.stop();
    const client = this.client;
    if (client.connected) {
      // a graceful close does not fire the will: say "offline" ourselves, before DISCONNECT
      try {
        const status = client.publish(this.#topics.status, OFFLINE_BYTES, RETAINED_QOS1);
        if (status === "outbox-full") client.publish(this.#topics.status, OFFLINE_BYTES, RETAINED_QOS0);
      } catch (error) {
        this.#say("could not publish offline: " + String(error));
      }
    }
    client.close();
    this.#health.close();
    this.#setStatus("offline");
    for (const actuator of this.#actuators) actuator.close();
    this.#led?.close();
    this.#say("stopped");
  }

  // ---- connection events

  #onConnected(): void {
    if (this.#stopped) return;
    this.counts.connects++;
    this.#manifestDue = false; // this connection's SUBACK makes it due again
    this.#setStatus("online");
    this.#health.readAddress();
    // everything again: the broker may have lost retained messages, Home Assistant its states
    this.#pacer.request(0, this.#plan.count);
    this.#pump();
  }

  #onDisconnected(reason: MqttError): void {
    if (this.#stopped) return;
    this.counts.disconnects++;
    this.#say("disconnected (" + reason.code + "); reconnecting");
    this.#setStatus("offline");
  }

  /**
   * Subscribed to the manifest topic: the broker has handed over the manifest announced
   * last (retained, if any) before this connection's next PUBLISH, so this set replaces it.
   */
  #onSubscribed(filter: string): void {
    if (filter !== this.#manifestTopic) return;
    this.#manifestDue = true;
    this.#publishManifest();
  }

  /** An outbox still full keeps the manifest due: #pump() tries again at the next acknowledgement. */
  #publishManifest(): void {
    const status = this.client.publish(this.#manifestTopic as string, (this.#discovery as Discovery).manifest, RETAINED_QOS1);
    if (status === "outbox-full") return;
    this.#manifestDue = false;
    if (!taken(status)) this.#say("the discovery manifest was not published (" + status + ")");
  }

  /**
   * A message of one of the node's subscriptions: every filter is a topic (prefixes and ids
   * have no wildcards: config.ts), so `topic` is the very string subscribed with (no decoding).
   */
  #onMessage(message: Message): void {
    const topic = message.topic;
    const commandTopics = this.#commandTopics;
    for (let index = 0; index < commandTopics.length; index++) {
      if (topic === commandTopics[index]) return this.#onCommand(index, message);
    }
    if (topic === this.#manifestTopic) this.#onManifest(message);
    else if (topic === this.#homeAssistantStatusTopic) this.#onHomeAssistantStatus(message);
  }

  /** The manifest announced last: clears the configs of entities this configuration no longer has. */
  #onManifest(message: Message): void {
    if (!message.retain) return; // this connection's own, echoed
    const stale = (this.#discovery as Discovery).staleTopics(message.text());
    for (const topic of stale) {
      try {
        const status = this.client.publish(topic, "", RETAINED_QOS1); // empty and retained: deletes it [MQTT-3.3.1-10]
        if (!taken(status)) this.#say("clearing " + topic + " failed (" + status + ")");
      } catch (error) {
        this.#say("clearing " + topic + " failed (" + String(error) + ")");
      }
    }
    if (stale.length > 0) this.#say("cleared " + stale.length + " discovery configs no longer configured");
  }

  #onHomeAssistantStatus(message: Message): void {
    // the retained copy comes with every subscribe, and a connect already sends everything
    if (message.retain || !message.payloadEquals(ONLINE_BYTES)) return;
    this.#say("Home Assistant is online: sending discovery and states again");
    this.#pacer.request(this.#plan.discoveryStart, this.#plan.count);
    this.#pump();
  }

  #onCommand(index: number, message: Message): void {
    const actuator = this.#actuators[index];
    const command = actuator.parse(message);
    if (command === COMMAND_INVALID) {
      this.counts.badCommands++;
      const payload = message.payload;
      this.#decoder ??= new this.#io.TextDecoder();
      const preview = this.#decoder.decode(payload.subarray(0, COMMAND_PREVIEW));
      this.#say("actuator " + actuator.spec.id + ": ignored command " + JSON.stringify(preview) +
        (payload.length > COMMAND_PREVIEW ? " (" + payload.length + " bytes)" : "") + ": expected \"ON\", \"OFF\" or \"TOGGLE\"");
      return;
    }
    this.counts.commands++;
    this.#apply(index, command === COMMAND_TOGGLE ? !actuator.on : command === COMMAND_ON);
  }

  #apply(index: number, on: boolean): void {
    this.#actuators[index].set(on);
    this.#pacer.request(this.#plan.actuatorItem(index));
    this.#pump();
  }

  // ---- timers

  #sampleTick(): void {
    if (!this.#sampledOnce) return; // the first tick takes the first sample
    try {
      this.sampleNow();
    } catch (error) {
      this.#say("sampling failed: " + String(error));
    }
  }

  #tick(): void {
    try {
      const ticks = ++this.#ticks;
      if (!this.#sampledOnce) {
        // the first values one tick after start, not a whole interval later, and not sooner:
        // drivers need time after construction (BH1750: 180 ms for its first conversion)
        this.#sampledOnce = true;
        this.sampleNow();
      }
      this.#led?.show(this.#status, ticks);
      const health = this.#health;
      health.tick();
      this.counts.wifiJoins = health.wifiJoins;
      const now = this.#now();
      if (health.due(now)) this.#pacer.request(this.#plan.diagnostics);
      if (this.#pacer.pending > 0) this.#pump();
      // online with nothing pending: the next tick when the diagnostics are due (status-led.ts)
      this.#ticker.period = this.#status === ONLINE && this.#pacer.pending === 0
        ? Math.min(MAX_IDLE_TICK_MS, Math.max(IDLE_TICK_MS, health.untilDue(this.#now()))) : TICK_MS;
    } catch (error) {
      this.#say("tick failed: " + String(error));
    }
  }

  // ---- publishing (the pacer's items)

  #pump(): void {
    if (this.#stopped || !this.client.connected) return;
    // in one write: a sample's states leave in one TCP segment, not one each
    this.client.batch(this.#publishPending);
    if (this.#pacer.pending > 0) this.#ticker.period = TICK_MS;
  }

  /** Made once: batch() calls it without a closure per pump. */
  readonly #publishPending = (): void => {
    if (this.#manifestDue) this.#publishManifest();
    this.#pacer.pump();
  };

  /** @internal PacerItems: pacer item `index`, as the publish plan orders them. */
  publishItem(index: number): PublishStatus | typeof SKIP | typeof WAIT {
    const plan = this.#plan;
    switch (plan.kind(index)) {
      case ITEM_BIRTH: return this.#publishBirth();
      case ITEM_DISCOVERY: return this.#publishDiscovery(plan.position(index));
      case ITEM_ACTUATOR: return this.#publishActuator(plan.position(index));
      // sensor states wait until the configs and states before them are acknowledged
      case ITEM_BARRIER: return this.client.outboxCount === 0 ? SKIP : WAIT;
      case ITEM_DIAGNOSTICS: return this.#publishDiagnostics();
      default: return this.#publishSensor(plan.position(index));
    }
  }

  #publishBirth(): PublishStatus {
    return this.client.publish(this.#topics.status, ONLINE_BYTES, RETAINED_QOS1);
  }

  #publishDiscovery(index: number): PublishStatus {
    const discovery = this.#discovery as Discovery;
    const status = this.client.publish(discovery.topic(index), discovery.payload(index), RETAINED_QOS1);
    if (taken(status)) this.counts.discoveryPublished++;
    return status;
  }

  #publishActuator(index: number): PublishStatus {
    const status = this.client.publish(this.#topics.actuatorState[index], this.#actuators[index].stateBytes, RETAINED_QOS1);
    if (taken(status)) this.counts.statesPublished++;
    return status;
  }

  #publishSensor(index: number): PublishStatus | typeof SKIP {
    const channel = this.#channels[index];
    if (!channel.hasValues) return SKIP;
    const length = channel.encode();
    const status = this.client.publish(this.#topics.sensorState[index], channel.payload, SENSOR_STATE, length);
    if (taken(status)) {
      channel.markPublished(this.#now());
      this.counts.readingsPublished++;
    }
    return status;
  }

  #publishDiagnostics(): PublishStatus | typeof SKIP {
    const status = this.#health.publish();
    if (status !== SKIP && taken(status)) this.counts.diagnosticsPublished++;
    return status;
  }

  /** @internal PacerItems: item `index` threw (it is not retried). */
  itemFailed(index: number, error: unknown): void {
    this.#say("publishing " + this.#itemName(index) + " failed: " + String(error));
  }

  // ---- reporting

  /** What pacer item `index` publishes, for log lines. */
  #itemName(index: number): string {
    const plan = this.#plan;
    const position = plan.position(index);
    switch (plan.kind(index)) {
      case ITEM_BIRTH: return "the birth message";
      case ITEM_DISCOVERY: return "the discovery config " + (this.#discovery as Discovery).topic(position);
      case ITEM_ACTUATOR: return "the state of actuator " + this.#actuators[position].spec.id;
      case ITEM_BARRIER: return "(the barrier)";
      case ITEM_DIAGNOSTICS: return "the diagnostics";
      default: return "the state of sensor " + this.#channels[position].spec.id;
    }
  }

  #setStatus(status: FirmwareStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#say("status: " + status);
    this.#led?.show(status, this.#ticks);
    if (status !== ONLINE) this.#ticker.period = TICK_MS; // the LED blinks, the Wi-Fi may rejoin
    tellStatus(this.#onStatus, status, this.#log);
  }

  #say(line: string): void {
    say(this.#log, line);
  }

  #now(): number {
    return nowOf(this.#io);
  }
}
