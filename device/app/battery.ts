/*
 * Battery mode (config.sleep): one wake of a board that deep-sleeps between readings. The
 * board starts afresh at every wake (deep sleep keeps nothing but the retained words of
 * retained.ts), so one BatteryNode lives one wake:
 *  1. it waits until its sensors can measure (Sensor.firstSampleAfter), samples each once
 *     (a chip still measuring is asked again, within SENSOR_WAIT_MS), and applies the
 *     deadband against the values last acknowledged, kept through sleep;
 *  2. nothing due: it sleeps again without touching the network. Otherwise it connects with
 *     the due states (QoS 1, retained) already in the outbox and the client's `pipeline`
 *     option: CONNECT and the PUBLISH packets go out in one write [MQTT-3.1.4-5], so the
 *     CONNACK and the PUBACKs come back in one round trip after the TCP handshake. The
 *     first wake after a power-on or a new configuration sends the discovery configs too;
 *  3. when everything is acknowledged (or ackTimeout passed: a broker that does not answer
 *     costs a bounded wait, never a hang) it sends DISCONNECT and deep-sleeps until the next
 *     wake, one interval after this one began.
 * It registers no will and publishes no "online"/"offline": a sleeping board is offline by
 * design, and Home Assistant's expire_after (discovery.ts) marks its readings stale when
 * wakes stop coming. A state not acknowledged keeps the deadband's base unchanged, so the
 * next wake sends the reading again. All IO comes in through the options (FirmwareParts,
 * with `sleep`); this module imports nothing from Node or Moddable.
 */

import { MqttClient } from "../mqtt/index.js";
import type { MqttError, PublishStatus, TimerId } from "../mqtt/index.js";
import { RETAINED_QOS1 } from "./availability.js";
import { ConfigError } from "./config.js";
import type { Config, SensorSpec } from "./config.js";
import { Discovery } from "./discovery.js";
import type { ActuatorState, Firmware, FirmwareCounts, FirmwareParts, ReadingState } from "./firmware-types.js";
import type { FirmwareIo, Sensor, SleepIo } from "./io.js";
import { brokerOptions, nowOf, pushReadingValues, readingStates, say, taken, tellStatus, zeroCounts } from "./node-parts.js";
import { ReadingsMemory, SAMPLE_DUE, SAMPLE_FAILED, SAMPLE_NOT_READY, SensorReadings } from "./readings.js";
import { WakeMemory } from "./retained.js";
import { clientBufferSizes, nodeSizes } from "./sizing.js";
import type { FirmwareStatus } from "./status-led.js";
import { Topics } from "./topics.js";

/** The wake's timer period after its first tick, ms: the SHT3x driver wants 20 ms or more between samples. */
const POLL_MS = 20;
/** The longest a wake waits for its sensors' values, ms. */
const SENSOR_WAIT_MS = 1_000;

/** Where a wake is. */
const SAMPLING = 0;
const PUBLISHING = 1;
const CLOSING = 2;
const ASLEEP = 3;
const STOPPED = 4;

/** No packet id: nothing in flight for that sensor. */
const NO_ID = 0;

export class BatteryNode implements Firmware {
  readonly config: Config;
  readonly client: MqttClient;
  readonly counts: FirmwareCounts = zeroCounts();

  readonly #io: FirmwareIo;
  readonly #sleep: SleepIo;
  readonly #log: ((line: string) => void) | undefined;
  readonly #onStatus: ((status: FirmwareStatus) => void) | undefined;
  readonly #memory: WakeMemory;
  readonly #channels: SensorReadings[];
  /** Per sensor: sampled this wake (or given up on). */
  readonly #sampled: boolean[];
  /** Per sensor: its state's packet id while in flight. */
  readonly #inFlight: number[];
  /** Per sensor: its state is due this wake. */
  readonly #due: boolean[];
  readonly #discovery: Discovery | undefined;
  readonly #topics: Topics;
  #timer: TimerId;
  /** ms after waking before the first sample. */
  readonly #firstSample: number;
  readonly #wokeAt: number;
  #phase = SAMPLING;
  #ticks = 0;
  #status: FirmwareStatus = "connecting";
  /** When the wait for acknowledgements (or the close) ends. */
  #deadline = 0;
  /** Discovery configs published so far, and acknowledged. */
  #discoverySent = 0;
  #discoveryAcked = 0;
  #lastPacketId: number;

  constructor(config: Config, options: FirmwareParts) {
    const sleepConfig = config.sleep;
    const sleep = options.sleep;
    if (sleepConfig === undefined) throw new ConfigError("sleep", "battery mode needs config.sleep");
    if (sleep === undefined || typeof sleep.deep !== "function") {
      throw new ConfigError("sleep", "battery mode needs the board's deep sleep and retained memory: pass options.sleep");
    }
    this.config = config;
    const io = this.#io = options.io;
    this.#sleep = sleep;
    this.#log = options.log;
    this.#onStatus = options.onStatus;
    this.#wokeAt = this.#now();
    const memory = this.#memory = new WakeMemory(sleep, config);
    this.#lastPacketId = memory.lastPacketId;
    const interval = sleepConfig.interval;
    const sensors = options.sensors ?? {};
    const readingsMemory = new ReadingsMemory(config.sensors);
    const started: SensorSpec[] = [];
    let firstSample = 0;
    // a sensor without a driver is not waited for
    const sampled: boolean[] = [];
    this.#channels = config.sensors.map((spec, index) => {
      const given = sensors[spec.id];
      const sensor: Sensor | undefined = given !== undefined && typeof given.sample === "function" ? given : undefined;
      sampled.push(sensor === undefined);
      if (sensor === undefined) this.#say("sensor " + spec.id + ": no driver was given; it is neither announced nor published");
      else {
        started.push(spec);
        firstSample = Math.max(firstSample, sensor.firstSampleAfter ?? 0);
      }
      const channel = new SensorReadings(spec, sensor, config.maxSilence, readingsMemory);
      const publishedWake = memory.publishedWake(index);
      if (publishedWake >= 0) channel.resume((reading) => memory.publishedValue(index, reading), publishedWake * interval);
      return channel;
    });
    this.#firstSample = firstSample;
    this.#sampled = sampled;
    this.#inFlight = this.#channels.map(() => NO_ID);
    this.#due = this.#channels.map(() => false);
    const announced = config.discovery && !memory.discoveryDone ? new Discovery(config, started) : undefined;
    const discovery = this.#discovery = announced !== undefined && announced.count > 0 ? announced : undefined;
    const encoder = new io.TextEncoder();
    this.#topics = new Topics(config, encoder);
    const asked = options.buffers ?? {};
    const buffers = clientBufferSizes(nodeSizes(config, discovery, encoder), asked, this.#channels.length);
    const node = this;
    // (the broker's options spread last: see firmware.ts)
    this.client = new MqttClient({
      // one attempt per wake, bounded: the next wake tries again
      reconnect: false,
      connectTimeout: sleepConfig.ackTimeout,
      pipeline: sleepConfig.pipeline,
      lastPacketId: memory.lastPacketId,
      receiveBufferSize: Math.min(buffers.receiveBufferSize, 256),
      transmitBufferSize: buffers.transmitBufferSize,
      outboxBytes: buffers.outboxBytes,
      outboxMessages: Math.max(buffers.outboxMessages ?? 0, this.#channels.length + 1),
      maxSubscriptions: 1,
      io,
      onConnected() {
        node.counts.connects++;
        node.#setStatus("online");
      },
      onPublished(packetId) {
        node.#onPublished(packetId);
      },
      onDisconnected(reason) {
        node.#onDisconnected(reason);
      },
      onError(error) {
        node.#say("mqtt " + error.code + ": " + error.message);
      },
      ...brokerOptions(config, io, options.mqtt5),
    });
    this.#say("woke (wake " + memory.wake + (memory.valid ? "" : ", retained memory started afresh") + ")");
    // the first tick when the slowest sensor has its first measurement, then every POLL_MS
    this.#timer = io.Timer.repeat(() => this.#tick(), firstSample > 0 ? firstSample : POLL_MS);
  }

  get status(): FirmwareStatus {
    return this.#status;
  }

  /** This wake's number (0 after a power-on), from the retained memory. */
  get wake(): number {
    return this.#memory.wake;
  }

  readings(): ReadingState[] {
    return readingStates(this.#channels);
  }

  actuators(): ActuatorState[] {
    return [];
  }

  pushReadingValues(out: (number | null)[]): number {
    return pushReadingValues(this.#channels, out);
  }

  pushActuatorStates(): number {
    return 0;
  }

  /** A wake samples once, on its own timer: nothing to do here. */
  sampleNow(): void {}

  setActuator(): boolean {
    return false;
  }

  /** Ends the wake without sleeping: DISCONNECT if connected, the timer cleared. */
  stop(): void {
    if (this.#phase === STOPPED) return;
    this.#phase = STOPPED;
    this.#io.Timer.clear(this.#timer);
    this.client.close();
    this.#setStatus("offline");
    this.#say("stopped");
  }

  // ---- the wake's steps

  #tick(): void {
    try {
      if (this.#phase === SAMPLING) {
        if (this.#ticks++ === 0 && this.#firstSample > 0 && this.#firstSample !== POLL_MS) {
          this.#io.Timer.clear(this.#timer);
          this.#timer = this.#io.Timer.repeat(() => this.#tick(), POLL_MS);
        }
        this.#sample();
      } else if (this.#phase === PUBLISHING && this.client.state === "closed") {
        this.#say("no connection: sleeping; the next wake sends again");
        this.#goToSleep();
      } else if ((this.#phase === PUBLISHING || this.#phase === CLOSING) && this.#now() >= this.#deadline) {
        this.#say(this.#phase === PUBLISHING ? "no acknowledgement within sleep.ackTimeout: sleeping" : "the close took too long: sleeping");
        this.#goToSleep();
      }
    } catch (error) {
      this.#say("wake failed: " + String(error));
      this.#goToSleep();
    }
  }

  /** Samples the sensors not sampled yet; once every one is (or SENSOR_WAIT_MS passed), publishes what is due. */
  #sample(): void {
    const channels = this.#channels;
    const now = this.#memory.wake * (this.config.sleep as NonNullable<Config["sleep"]>).interval;
    let waiting = false;
    for (let i = 0; i < channels.length; i++) {
      if (this.#sampled[i]) continue;
      const channel = channels[i];
      const result = channel.sample(now);
      if (result === SAMPLE_NOT_READY) {
        waiting = true;
        continue;
      }
      this.#sampled[i] = true;
      if (result === SAMPLE_FAILED) {
        this.counts.sampleFailures++;
        this.#say("sensor " + channel.spec.id + ": sample failed: " + String(channel.lastError));
        continue;
      }
      this.counts.samples++;
      this.#due[i] = result === SAMPLE_DUE;
    }
    if (waiting && this.#now() - this.#wokeAt < SENSOR_WAIT_MS + this.#firstSample) return;
    this.#publish();
  }

  /** Puts what is due in the outbox and connects; with nothing due, sleeps at once. */
  #publish(): void {
    const discovery = this.#discovery;
    if (discovery === undefined && this.#due.indexOf(true) < 0) {
      this.#say("nothing to publish");
      this.#goToSleep();
      return;
    }
    this.#phase = PUBLISHING;
    this.#deadline = this.#now() + (this.config.sleep as NonNullable<Config["sleep"]>).ackTimeout;
    this.#pump();
    this.client.connect();
  }

  /** Publishes the discovery configs, then the due states, as far as the outbox takes them (more as acknowledgements free room). */
  #pump(): void {
    const discovery = this.#discovery;
    const client = this.client;
    if (discovery !== undefined) {
      while (this.#discoverySent < discovery.count) {
        const status = client.publish(discovery.topic(this.#discoverySent), discovery.payload(this.#discoverySent), RETAINED_QOS1);
        if (!this.#took(status)) return;
        this.#discoverySent++;
        this.counts.discoveryPublished++;
      }
    }
    const channels = this.#channels;
    for (let i = 0; i < channels.length; i++) {
      if (!this.#due[i] || this.#inFlight[i] !== NO_ID) continue;
      const channel = channels[i];
      const status = client.publish(this.#topics.sensorState[i], channel.payload, RETAINED_QOS1, channel.encode());
      if (!this.#took(status)) return;
      this.#inFlight[i] = client.lastPacketId;
    }
  }

  /** Whether the client took a message; the packet id it used is kept for the next wake. */
  #took(status: PublishStatus): boolean {
    if (!taken(status)) return false;
    this.#lastPacketId = this.client.lastPacketId;
    return true;
  }

  #onPublished(packetId: number): void {
    if (this.#phase !== PUBLISHING) return;
    const index = this.#inFlight.indexOf(packetId);
    if (index >= 0) {
      const channel = this.#channels[index];
      channel.markPublished(this.#memory.wake * (this.config.sleep as NonNullable<Config["sleep"]>).interval);
      this.#memory.recordPublished(index, channel);
      this.#inFlight[index] = NO_ID;
      this.#due[index] = false;
      this.counts.readingsPublished++;
    } else if (this.#discovery !== undefined) {
      this.#discoveryAcked++;
    }
    this.#pump();
    if (this.#due.indexOf(true) >= 0 || this.client.outboxCount > 0) return;
    if (this.#discovery !== undefined && this.#discoveryAcked < this.#discovery.count) return;
    // everything acknowledged: DISCONNECT (no will to suppress: none was registered), then sleep
    this.#phase = CLOSING;
    this.#deadline = this.#now() + (this.config.sleep as NonNullable<Config["sleep"]>).ackTimeout;
    this.client.close();
    if (this.client.state === "closed") this.#goToSleep();
  }

  #onDisconnected(reason: MqttError): void {
    if (this.#phase === CLOSING) {
      this.#goToSleep();
      return;
    }
    if (this.#phase !== PUBLISHING) return;
    this.counts.disconnects++;
    this.#say("disconnected (" + reason.code + "): sleeping; the next wake sends again");
    this.#goToSleep();
  }

  /** Keeps the wake's state in the retained memory and deep-sleeps until one interval after this wake began. */
  #goToSleep(): void {
    if (this.#phase === ASLEEP || this.#phase === STOPPED) return;
    this.#phase = ASLEEP;
    this.#io.Timer.clear(this.#timer);
    const client = this.client;
    if (client.state !== "closed") client.close();
    const discoveryDone = this.#memory.discoveryDone || (this.#discovery !== undefined && this.#discoveryAcked >= this.#discovery.count);
    this.#memory.save(this.#lastPacketId, discoveryDone);
    this.#setStatus("offline");
    const interval = (this.config.sleep as NonNullable<Config["sleep"]>).interval;
    const ms = Math.max(1, interval - (this.#now() - this.#wokeAt));
    this.#say("sleeping " + ms + " ms");
    this.#sleep.deep(ms);
  }

  // ---- reporting

  #setStatus(status: FirmwareStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    tellStatus(this.#onStatus, status, this.#log);
  }

  #say(line: string): void {
    say(this.#log, line);
  }

  #now(): number {
    return nowOf(this.#io);
  }
}
