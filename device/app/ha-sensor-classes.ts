/*
 * What Home Assistant accepts for an MQTT sensor, as frozen data that resolveConfig()
 * checks a reading against: the device classes this firmware accepts (the numeric
 * classes a sensor board measures), each with the units Home Assistant documents for it,
 * the state classes, and which state classes each device class takes. Taken from Home
 * Assistant's sensor constants (homeassistant/components/sensor/const.py:
 * DEVICE_CLASS_UNITS, DEVICE_CLASS_STATE_CLASSES). Data and one look-up only: no state.
 */

/** Every state class Home Assistant knows for a sensor. */
export const STATE_CLASSES: readonly string[] = Object.freeze(["measurement", "total", "total_increasing"]);

const MEASUREMENT: readonly string[] = Object.freeze(["measurement"]);
const TOTALS: readonly string[] = Object.freeze(["total_increasing", "total"]);

const PERCENT: readonly string[] = Object.freeze(["%"]);
const PPM: readonly string[] = Object.freeze(["ppm"]);
const MICROGRAMS_PER_M3: readonly string[] = Object.freeze(["µg/m³"]);
const PRESSURES: readonly string[] = Object.freeze(["Pa", "hPa", "kPa", "mbar", "cbar", "bar", "mmHg", "inHg", "psi"]);
const NO_UNIT: readonly string[] = Object.freeze([]);

/**
 * The device classes accepted, each with its units (empty: the class takes no unit) and its
 * state classes (the first is the default when a reading gives none).
 */
export const SENSOR_DEVICE_CLASSES: Readonly<Record<string, { readonly units: readonly string[]; readonly stateClasses: readonly string[] }>> =
  Object.freeze({
    temperature: Object.freeze({ units: Object.freeze(["°C", "°F", "K"]), stateClasses: MEASUREMENT }),
    humidity: Object.freeze({ units: PERCENT, stateClasses: MEASUREMENT }),
    moisture: Object.freeze({ units: PERCENT, stateClasses: MEASUREMENT }),
    battery: Object.freeze({ units: PERCENT, stateClasses: MEASUREMENT }),
    illuminance: Object.freeze({ units: Object.freeze(["lx"]), stateClasses: MEASUREMENT }),
    irradiance: Object.freeze({ units: Object.freeze(["W/m²", "BTU/(h⋅ft²)"]), stateClasses: MEASUREMENT }),
    pressure: Object.freeze({ units: PRESSURES, stateClasses: MEASUREMENT }),
    atmospheric_pressure: Object.freeze({ units: PRESSURES, stateClasses: MEASUREMENT }),
    carbon_dioxide: Object.freeze({ units: PPM, stateClasses: MEASUREMENT }),
    carbon_monoxide: Object.freeze({ units: PPM, stateClasses: MEASUREMENT }),
    volatile_organic_compounds: Object.freeze({ units: MICROGRAMS_PER_M3, stateClasses: MEASUREMENT }),
    volatile_organic_compounds_parts: Object.freeze({ units: Object.freeze(["ppm", "ppb"]), stateClasses: MEASUREMENT }),
    pm1: Object.freeze({ units: MICROGRAMS_PER_M3, stateClasses: MEASUREMENT }),
    pm25: Object.freeze({ units: MICROGRAMS_PER_M3, stateClasses: MEASUREMENT }),
    pm10: Object.freeze({ units: MICROGRAMS_PER_M3, stateClasses: MEASUREMENT }),
    aqi: Object.freeze({ units: NO_UNIT, stateClasses: MEASUREMENT }),
    ph: Object.freeze({ units: NO_UNIT, stateClasses: MEASUREMENT }),
    voltage: Object.freeze({ units: Object.freeze(["V", "mV", "µV", "kV", "MV"]), stateClasses: MEASUREMENT }),
    current: Object.freeze({ units: Object.freeze(["A", "mA"]), stateClasses: MEASUREMENT }),
    power: Object.freeze({ units: Object.freeze(["W", "kW", "MW", "GW", "TW"]), stateClasses: MEASUREMENT }),
    energy: Object.freeze({ units: Object.freeze(["Wh", "kWh", "MWh", "GWh", "TWh", "J", "kJ", "MJ", "GJ"]), stateClasses: TOTALS }),
    frequency: Object.freeze({ units: Object.freeze(["Hz", "kHz", "MHz", "GHz"]), stateClasses: MEASUREMENT }),
    signal_strength: Object.freeze({ units: Object.freeze(["dB", "dBm"]), stateClasses: MEASUREMENT }),
    sound_pressure: Object.freeze({ units: Object.freeze(["dB", "dBA"]), stateClasses: MEASUREMENT }),
    distance: Object.freeze({ units: Object.freeze(["mm", "cm", "m", "km", "in", "ft", "yd", "mi"]), stateClasses: STATE_CLASSES }),
    duration: Object.freeze({ units: Object.freeze(["d", "h", "min", "s", "ms"]), stateClasses: STATE_CLASSES }),
    weight: Object.freeze({ units: Object.freeze(["µg", "mg", "g", "kg", "oz", "lb", "st"]), stateClasses: STATE_CLASSES }),
    wind_speed: Object.freeze({ units: Object.freeze(["m/s", "km/h", "ft/s", "mph", "kn", "Beaufort"]), stateClasses: MEASUREMENT }),
  });

/** The entry of a device class accepted here, or undefined. */
export function sensorDeviceClass(name: string): { readonly units: readonly string[]; readonly stateClasses: readonly string[] } | undefined {
  return Object.prototype.hasOwnProperty.call(SENSOR_DEVICE_CLASSES, name) ? SENSOR_DEVICE_CLASSES[name] : undefined;
}
