// The notification-controller's flags: the runtime's shared ones plus Flux's notification-controller flags.
import { controllerFlags, type FlagValues, type ParsedFlags, parseFlags } from "@capstan/runtime";

export const notificationFlagSpecs = controllerFlags({
  "receiver-addr": {
    type: "string",
    default: ":9292",
    description: "The address the webhook receiver server binds to.",
  },
  "rate-limit-interval": {
    type: "duration",
    default: 5 * 60_000,
    description: "Interval within which identical notifications (same object, message and revision) are sent once.",
  },
  "no-cross-namespace-refs": {
    type: "boolean",
    default: false,
    description: "Reject Alert event sources and Receiver resources in a namespace other than their own.",
  },
});

export type NotificationFlags = FlagValues<typeof notificationFlagSpecs>;

/** The runtime's parser over the shared flags plus this controller's own. */
export function parseNotificationFlags(
  program: string,
  argv: readonly string[],
): ParsedFlags<typeof notificationFlagSpecs> {
  return parseFlags(program, notificationFlagSpecs, argv);
}
