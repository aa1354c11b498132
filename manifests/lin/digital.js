/*
 * The desktop simulator's stand-in for embedded:io/digital (Moddable's Linux build has no
 * GPIO): an ECMA-419 Digital whose pins remember their level and trace every write, so a
 * command's effect shows in the console. Input pins read what was last written. Preloaded:
 * no module-level state.
 */

class Digital {
	static Input = 0;
	static InputPullUp = 1;
	static InputPullDown = 2;
	static InputPullUpDown = 3;
	static Output = 8;
	static OutputOpenDrain = 9;
	static Rising = 1;
	static Falling = 2;

	#pin;
	#value = 0;

	constructor(options) {
		this.#pin = options.pin;
		trace(`digital: pin ${options.pin} opened (simulated)\n`);
	}
	read() {
		return this.#value;
	}
	write(value) {
		this.#value = value ? 1 : 0;
		trace(`digital: pin ${this.#pin} = ${this.#value}\n`);
	}
	close() {
		trace(`digital: pin ${this.#pin} closed\n`);
	}
	get format() {
		return "number";
	}
	set format(value) {
		if (value !== "number") throw new RangeError("unsupported format");
	}
}
Object.freeze(Digital.prototype);

export default Digital;
