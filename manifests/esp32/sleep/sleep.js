/*
 * Deep sleep and retained memory on an ESP32, in the shape of Moddable's nRF52 sleep module
 * (build/devices/nrf52/modules/sleep/sleep.js), which device/main-sleep.ts hands the
 * firmware (device/app/io.ts, SleepIo): 32 words of RTC slow memory kept through deep sleep
 * (noise after a power-on: the firmware checks them), and deep(ms), which does not return:
 * the board restarts at the wake. The native half is sleep.c. Moddable's SDK has no such
 * module for the ESP32.
 */

export default class Sleep {
	static getRetainedValue(index) @ "xs_mqtt_sleep_get_retained_value";
	static setRetainedValue(index, value) @ "xs_mqtt_sleep_set_retained_value";
	static deep(ms) @ "xs_mqtt_sleep_deep";
}
