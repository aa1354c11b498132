/*
 * Declarations of the Moddable modules device/main.ts imports that @moddable/typings does
 * not cover in this project's device tsconfig: the ECMA-419 DNS resolver over UDP (from
 * $(MODDABLE)/examples/io/udp/dns), "mc/config" (values from the manifest and the mcconfig
 * command line: strings when given on the command line), the legacy "net" module (for
 * the DNS servers DHCP handed out), and "modules" (modules/base/modules: a module the
 * manifest may leave out, taken only when present). Types only.
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

declare module "modules" {
  const Modules: {
    /** Whether the build holds the module. */
    has(specifier: string): boolean;
    /** The module's default export (modules.c, xs_modules_importNow). */
    importNow(specifier: string): unknown;
  };
  export default Modules;
}
