#!/usr/bin/env node
// notification-controller: flags → wiring (controller.ts). Exit 0 after a clean SIGTERM drain, 1 on failure,
// 2 on a bad flag.
import { parseFlagsOrExit } from "@capstan/runtime";
import { controllerName, startNotificationController } from "./controller.js";
import { notificationFlagSpecs } from "./flags.js";

const flags = parseFlagsOrExit(controllerName, notificationFlagSpecs, process.argv.slice(2));
const controller = startNotificationController({ flags });
try {
  await controller.done;
  process.exit(0);
} catch (err) {
  controller.manager.log.error({ err: (err as Error).message }, "notification-controller stopped with an error");
  process.exit(1);
}
