#!/usr/bin/env node
// notification-controller: flags → wiring (controller.ts). Exit 0 after a clean SIGTERM drain, 1 on failure,
// 2 on a bad flag.
import { FlagError } from "@capstan/runtime";
import { startNotificationController } from "./controller.js";
import { parseNotificationFlags } from "./flags.js";

let flags: ReturnType<typeof parseNotificationFlags>;
try {
  flags = parseNotificationFlags("notification-controller", process.argv.slice(2));
} catch (err) {
  if (!(err instanceof FlagError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
if (flags.help) {
  process.stdout.write(`${flags.usage}\n`);
  process.exit(0);
}
const controller = startNotificationController({ flags: flags.values });
try {
  await controller.done;
  process.exit(0);
} catch (err) {
  controller.manager.log.error({ err: (err as Error).message }, "notification-controller stopped with an error");
  process.exit(1);
}
