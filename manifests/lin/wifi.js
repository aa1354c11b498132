/*
 * The desktop simulator's embedded:network/interface/wifi: Moddable's Linux build has no
 * ECMA-419 Wi-Fi interface (modules/io/wifi/manifest.json: "ECMA-419 Wi-Fi unsupported
 * target") and the desktop has no radio, so there is no interface to give: the default
 * export is undefined, and device/main.ts hands the firmware none (the network counts as
 * always up and no RSSI is announced). Preloaded: nothing runs.
 */

const WiFi = undefined;
export default WiFi;
