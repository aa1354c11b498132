/*
 * Declarations of the Moddable modules device/main.ts imports that @moddable/typings does
 * not cover in this project's device tsconfig: the ECMA-419 DNS resolver over UDP (from
 * $(MODDABLE)/examples/io/udp/dns), "mc/config" (values from the manifest and the mcconfig
 * command line: strings when given on the command line), the legacy "net" module (for
 * the DNS servers DHCP handed out and the board's address), "Resource" (a file the manifest embeds), "main" (the
 * board's entry, for the TLS and sleep entries), "sleep" (deep sleep and retained memory, for the sleep entry), the
 * ECMA-419 Wi-Fi interface, and the `System` global. Types only.
 */

declare module "embedded:network/dns/resolver/udp" {
  import type UDP from "embedded:io/socket/udp";

  export interface ResolverOptions {
    /** The UDP socket class, as `{io: UDP}` (Moddable's resolver constructs `new socket.io(...)`). */
    socket: { io: typeof UDP };
    /** DNS server addresses, tried in turn. */
    servers: string[];
  }

  export default class Resolver {
    constructor(options: ResolverOptions);
    resolve(options: {
      host: string;
      onResolved: (host: string, address: string) => void;
      onError: (host: string) => void;
    }): void;
    close(): void;
  }
}

declare module "mc/config" {
  const config: { readonly [key: string]: unknown };
  export default config;
}

declare module "net" {
  const Net: {
    /** The DNS servers of the current network connection. */
    get(property: "DNS"): string[] | undefined;
    get(property: string): unknown;
  };
  export default Net;
}

declare module "Resource" {
  /** A file the manifest embeds ("resources"), read in place from flash (modules/files/resource). */
  export default class Resource {
    constructor(name: string);
    readonly byteLength: number;
  }
}

declare module "main" {
  /** What a TLS build hands startBoard(): Moddable's TLS socket and Resource class (device/main.ts BoardTls). */
  export interface BoardTls {
    readonly TLS: unknown;
    readonly Resource: new (name: string) => ArrayBuffer;
  }
  /** What a battery build hands startBoard(): the sleep module and its mc/config values (device/main.ts BoardSleep). */
  export interface BoardSleep {
    readonly io: {
      getRetainedValue(index: number): number;
      setRetainedValue(index: number, value: number): void;
      deep(ms: number): void;
    };
    readonly interval: unknown;
    readonly ackTimeout: unknown;
    readonly pipeline: unknown;
  }
  /** device/main.ts, as the manifests map it (dist/board.js), for device/main-tls.ts, device/main-sleep.ts and device/main-tls-sleep.ts. */
  export function startBoard(tls: BoardTls | undefined, sleep?: BoardSleep): void;
}

declare module "main-tls" {
  /** device/main-tls.ts, as manifest_tls.json maps it (dist/board-tls.js), for device/main-tls-sleep.ts. */
  export function boardTls(): import("main").BoardTls;
}

declare module "main-sleep" {
  /** device/main-sleep.ts, as manifest_sleep.json maps it (dist/board-sleep.js), for device/main-tls-sleep.ts. */
  export function boardSleep(): import("main").BoardSleep;
}

declare module "sleep" {
  /**
   * Deep sleep and the 32 words kept through it, in the shape of Moddable's nRF52 sleep
   * module (build/devices/nrf52/modules/sleep/sleep.js); on an ESP32, manifests/esp32/sleep
   * (RTC memory).
   */
  export default class Sleep {
    static getRetainedValue(index: number): number;
    static setRetainedValue(index: number, value: number): void;
    static deep(ms: number): void;
  }
}

declare module "embedded:network/interface/wifi" {
  /**
   * ECMA-419's Wi-Fi network interface: on an ESP32 Moddable's modules/io/wifi/esp32/wifi-esp32.js
   * (in the build through examples/manifest_net.json); undefined in the desktop build
   * (manifests/lin/wifi.js: Moddable's Linux build has no Wi-Fi).
   */
  const WiFi: (new (options: { onChanged: (this: WiFiInstance, property: string) => void }) => WiFiInstance) | undefined;
  interface WiFiInstance {
    readonly connection: number;
    readonly address: string | undefined;
    readonly RSSI: number | undefined;
    connect(options: { SSID: string; password?: string; channel?: number }): void;
    disconnect(): void;
    close(): void;
  }
  export default WiFi;
}

/**
 * Set by Moddable's preloaded "system" module (modules/io/manifest.json): on an ESP32
 * modules/io/system/system.js, whose restart() is esp_restart() (modules/io/system/system.c
 * xs_system_restart); the Linux build's (modules/io/manifests/lin/system.js) has no restart.
 */
declare var System: { readonly restart?: () => void } | undefined;
