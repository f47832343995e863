// source-controller's flags: the runtime's common ones plus Flux's storage flags (same names and defaults).
import { controllerFlags, type FlagValues } from "@capstan/runtime";

export const controllerName = "source-controller";

export const sourceControllerFlags = controllerFlags({
  "storage-path": {
    type: "string",
    default: "",
    description: "Directory artifacts are stored in (default: $STORAGE_PATH, else /data).",
  },
  "storage-addr": {
    type: "string",
    default: "",
    description: "Address the artifact HTTP server listens on (default: $STORAGE_ADDR, else :9090).",
  },
  "storage-adv-addr": {
    type: "string",
    default: "",
    description:
      "host[:port] written into artifact URLs (default: $STORAGE_ADV_ADDR, else this host's name and the storage port).",
  },
  "artifact-retention-ttl": {
    type: "duration",
    default: 60_000,
    description: "How long superseded artifacts are kept.",
  },
  "artifact-retention-records": {
    type: "number",
    default: 2,
    integer: true,
    min: 1,
    description: "How many artifacts of an object are kept, the current one included.",
  },
  "requeue-dependency": {
    type: "duration",
    default: 30_000,
    description: "Delay before retrying when an included GitRepository has no artifact yet.",
  },
  "artifact-max-size": {
    type: "number",
    default: 0,
    integer: true,
    min: 0,
    description: "Largest artifact (compressed bytes) to store; 0 means no limit. Capstan addition, not a Flux flag.",
  },
  "helm-index-max-size": {
    type: "number",
    default: 50 * 1024 * 1024,
    integer: true,
    min: 1,
    description: "The max allowed size in bytes of a Helm repository index file.",
  },
  "helm-chart-max-size": {
    type: "number",
    default: 10 * 1024 * 1024,
    integer: true,
    min: 1,
    description: "The max allowed size in bytes of a Helm chart file.",
  },
  "helm-chart-file-max-size": {
    type: "number",
    default: 5 * 1024 * 1024,
    integer: true,
    min: 1,
    description: "The max allowed size in bytes of a file in a Helm chart.",
  },
});

export type SourceControllerFlags = FlagValues<typeof sourceControllerFlags>;
