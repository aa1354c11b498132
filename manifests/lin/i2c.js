/*
 * The desktop simulator's stand-in for embedded:io/i2c (Moddable's Linux build has no I²C
 * bus): constructing one throws, so the firmware reports each configured sensor as not
 * found and runs without it. The simulator's manifest leaves the sensors out by default.
 */

class I2C {
	constructor(options) {
		throw new Error(`no I2C bus in the desktop simulator (address ${options?.address})`);
	}
}
Object.freeze(I2C.prototype);

export default I2C;
