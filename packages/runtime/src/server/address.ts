/** A Go-style listen address: ":8080", "127.0.0.1:9440", "[::1]:0"; "0" disables the server (controller-runtime). */
export function parseListenAddress(addr: string): { host: string | undefined; port: number } | undefined {
  if (addr === "0") return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new Error(`invalid listen address ${JSON.stringify(addr)}: want host:port or :port (or 0 to disable)`);
  }
  const host = m[1] ?? m[2];
  return { host: host === "" ? undefined : host, port };
}
