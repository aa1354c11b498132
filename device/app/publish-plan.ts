/*
 * The publish plan: the order in which a node's messages go out after a connect, as the
 * pacer's item indexes: [birth][discovery configs...][actuator states...][barrier][sensor
 * states...][diagnostics]. The barrier holds the sensor states back until everything before them is
 * acknowledged (brokers may forward QoS 0 ahead of QoS 1 still in flight), so Home
 * Assistant knows an entity before its first reading. Index arithmetic only: built once,
 * and nothing here allocates after construction.
 */

/** What a pacer item publishes (PublishPlan.kind()). */
export const ITEM_BIRTH = 0;
export const ITEM_DISCOVERY = 1;
export const ITEM_ACTUATOR = 2;
export const ITEM_BARRIER = 3;
export const ITEM_SENSOR = 4;
export const ITEM_DIAGNOSTICS = 5;

export type ItemKind =
  typeof ITEM_BIRTH | typeof ITEM_DISCOVERY | typeof ITEM_ACTUATOR | typeof ITEM_BARRIER | typeof ITEM_SENSOR | typeof ITEM_DIAGNOSTICS;

export class PublishPlan {
  /** The birth message's item. */
  readonly birth = 0;
  /** The first discovery config's item. */
  readonly discoveryStart = 1;
  readonly actuatorStart: number;
  readonly barrier: number;
  readonly sensorStart: number;
  /** The diagnostics' item (health.ts), last; -1 without diagnostics. */
  readonly diagnostics: number;
  /** Items in all. */
  readonly count: number;

  constructor(discoveryConfigs: number, actuators: number, sensors: number, diagnostics = false) {
    this.actuatorStart = this.discoveryStart + discoveryConfigs;
    this.barrier = this.actuatorStart + actuators;
    this.sensorStart = this.barrier + 1;
    this.diagnostics = diagnostics ? this.sensorStart + sensors : -1;
    this.count = this.sensorStart + sensors + (diagnostics ? 1 : 0);
  }

  /** What item `index` publishes. */
  kind(index: number): ItemKind {
    if (index === this.birth) return ITEM_BIRTH;
    if (index < this.actuatorStart) return ITEM_DISCOVERY;
    if (index < this.barrier) return ITEM_ACTUATOR;
    if (index === this.barrier) return ITEM_BARRIER;
    if (index === this.diagnostics) return ITEM_DIAGNOSTICS;
    return ITEM_SENSOR;
  }

  /** Item `index`'s place among the items of its kind (the discovery config's, actuator's or sensor's index). */
  position(index: number): number {
    if (index < this.actuatorStart) return index - this.discoveryStart;
    if (index < this.barrier) return index - this.actuatorStart;
    return index - this.sensorStart;
  }

  /** The item of actuator `actuator`'s state. */
  actuatorItem(actuator: number): number {
    return this.actuatorStart + actuator;
  }

  /** The item of sensor `sensor`'s state. */
  sensorItem(sensor: number): number {
    return this.sensorStart + sensor;
  }
}
