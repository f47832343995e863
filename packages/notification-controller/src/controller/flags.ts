// The notification-controller's flags: the runtime's shared ones plus Flux's notification-controller flags.
import { controllerFlags, FlagError, type FlagValues, type ParsedFlags, parseFlags } from "@capstan/runtime";

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

const noCrossNamespaceRefs = "no-cross-namespace-refs";

/**
 * parseFlags with one workaround: node's parseArgs reads `--no-cross-namespace-refs` as the negation of a
 * `cross-namespace-refs` flag, so the runtime's parser would drop it silently. That one flag is taken out of argv and
 * parsed here; every other flag (and --help, which lists it) goes through the runtime's parser.
 */
export function parseNotificationFlags(
  program: string,
  argv: readonly string[],
): ParsedFlags<typeof notificationFlagSpecs> {
  let value: boolean | undefined;
  const rest: string[] = [];
  for (const arg of argv) {
    const m = /^--no-cross-namespace-refs(?:=(.*))?$/.exec(arg);
    if (!m) {
      rest.push(arg);
      continue;
    }
    const raw = (m[1] ?? "true").toLowerCase();
    if (raw !== "true" && raw !== "false" && raw !== "1" && raw !== "0") {
      throw new FlagError(`invalid value ${JSON.stringify(m[1])} for --${noCrossNamespaceRefs}: want true or false`);
    }
    value = raw === "true" || raw === "1";
  }
  const parsed = parseFlags(program, notificationFlagSpecs, rest);
  if (parsed.help || value === undefined) return parsed;
  return { help: false, values: { ...parsed.values, noCrossNamespaceRefs: value } };
}
