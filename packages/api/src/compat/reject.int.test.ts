import { beforeAll, describe, expect, it } from "vitest";
import {
  alertType,
  gitRepositoryType,
  type KindDescriptor,
  kustomizationType,
  providerType,
  receiverType,
} from "../kinds.js";
import { rejectionMessage } from "./client.js";
import { alerts, gitRepositories, kustomizations, providers, receivers, statusFixtures } from "./fixtures.js";
import { useCompatScope } from "./scope.js";

type Spec = Record<string, unknown>;
/** A valid fixture of the kind with its spec changed by `edit`. */
function breaking<T extends { metadata: { name?: string }; spec: object }>(valid: T, edit: (spec: Spec) => void): T {
  const copy = structuredClone(valid);
  edit(copy.spec as Spec);
  return copy;
}

const [gitMinimal] = gitRepositories();
const [ksMinimal] = kustomizations();
const [slack] = providers();
const [onCall] = alerts();
const [githubReceiver, , oidcReceiver] = receivers();
if (!gitMinimal || !ksMinimal || !slack || !onCall || !githubReceiver || !oidcReceiver) throw new Error("fixtures");

const long = (n: number) => "x".repeat(n);
const tooLong = /Too long: (may not be (longer|more) than|must have at most) /;

/** [what is broken, kind, object, the apiserver's message] */
const cases: [string, KindDescriptor, object, RegExp][] = [
  // GitRepository
  [
    "interval that is not a Go duration",
    gitRepositoryType,
    breaking(gitMinimal, (s) => {
      s.interval = "5 minutes";
    }),
    /spec\.interval: Invalid value: "5 minutes": spec\.interval in body should match '\^\(\[0-9\]\+\(\\\.\[0-9\]\+\)\?\(ms\|s\|m\|h\)\)\+\$'/,
  ],
  [
    "timeout in hours",
    gitRepositoryType,
    breaking(gitMinimal, (s) => {
      s.timeout = "1h";
    }),
    /spec\.timeout: Invalid value: "1h": spec\.timeout in body should match '\^\(\[0-9\]\+\(\\\.\[0-9\]\+\)\?\(ms\|s\|m\)\)\+\$'/,
  ],
  [
    "scp-style url",
    gitRepositoryType,
    breaking(gitMinimal, (s) => {
      s.url = "git@github.com:stefanprodan/podinfo.git";
    }),
    /spec\.url: Invalid value: "git@github\.com:stefanprodan\/podinfo\.git": spec\.url in body should match '\^\(http\|https\|ssh\):\/\/\.\*\$'/,
  ],
  [
    "missing url",
    gitRepositoryType,
    breaking(gitMinimal, (s) => {
      delete s.url;
    }),
    /spec\.url: Required value/,
  ],
  [
    "missing interval",
    gitRepositoryType,
    breaking(gitMinimal, (s) => {
      delete s.interval;
    }),
    /spec\.interval: Required value/,
  ],
  [
    "unknown provider",
    gitRepositoryType,
    breaking(gitMinimal, (s) => {
      s.provider = "gitlab";
    }),
    /spec\.provider: Unsupported value: "gitlab": supported values: "generic", "aws", "azure", "github"/,
  ],
  [
    "unknown verify mode",
    gitRepositoryType,
    breaking(gitMinimal, (s) => {
      s.verify = { mode: "tag", secretRef: { name: "keys" } };
    }),
    /spec\.verify\.mode: Unsupported value: "tag": supported values: "head", "HEAD", "Tag", "TagAndHEAD"/,
  ],
  [
    "verify without secretRef",
    gitRepositoryType,
    breaking(gitMinimal, (s) => {
      s.verify = { mode: "HEAD" };
    }),
    /spec\.verify\.secretRef: Required value/,
  ],
  [
    "include without repository",
    gitRepositoryType,
    breaking(gitMinimal, (s) => {
      s.include = [{ toPath: "x" }];
    }),
    /spec\.include\[0\]\.repository: Required value/,
  ],
  [
    "serviceAccountName with the generic provider (CEL)",
    gitRepositoryType,
    breaking(gitMinimal, (s) => {
      s.serviceAccountName = "reader";
    }),
    /spec: Invalid value: serviceAccountName can only be set when provider is 'azure' or 'aws'/,
  ],
  // Kustomization
  [
    "missing prune",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      delete s.prune;
    }),
    /spec\.prune: Required value/,
  ],
  [
    "missing sourceRef",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      delete s.sourceRef;
    }),
    /spec\.sourceRef: Required value/,
  ],
  [
    "source kind Flux cannot build from",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.sourceRef = { kind: "HelmRepository", name: "x" };
    }),
    /spec\.sourceRef\.kind: Unsupported value: "HelmRepository": supported values: "OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"/,
  ],
  [
    "retryInterval that is not a Go duration",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.retryInterval = "1d";
    }),
    /spec\.retryInterval: Invalid value: "1d": spec\.retryInterval in body should match/,
  ],
  [
    "unknown deletionPolicy",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.deletionPolicy = "Keep";
    }),
    /spec\.deletionPolicy: Unsupported value: "Keep": supported values: "MirrorPrune", "Delete", "WaitForTermination", "Orphan"/,
  ],
  [
    "targetNamespace longer than a namespace name",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.targetNamespace = long(64);
    }),
    new RegExp(`spec\\.targetNamespace: ${tooLong.source}63`),
  ],
  [
    "empty namePrefix",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.namePrefix = "";
    }),
    /spec\.namePrefix: Invalid value: "": spec\.namePrefix in body should be at least 1 chars long/,
  ],
  [
    "nameSuffix over 200 characters",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.nameSuffix = long(201);
    }),
    new RegExp(`spec\\.nameSuffix: ${tooLong.source}200`),
  ],
  [
    "decryption provider other than sops",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.decryption = { provider: "age" };
    }),
    /spec\.decryption\.provider: Unsupported value: "age": supported values: "sops"/,
  ],
  [
    "substituteFrom of an unsupported kind",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.postBuild = { substituteFrom: [{ kind: "Deployment", name: "vars" }] };
    }),
    /spec\.postBuild\.substituteFrom\[0\]\.kind: Unsupported value: "Deployment": supported values: "Secret", "ConfigMap"/,
  ],
  [
    "patch without its patch",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.patches = [{ target: { kind: "Deployment" } }];
    }),
    /spec\.patches\[0\]\.patch: Required value/,
  ],
  [
    "prune that is not a boolean",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.prune = "yes";
    }),
    /spec\.prune: Invalid value: "string": spec\.prune in body must be of type boolean: "string"/,
  ],
  [
    "kubeConfig with both secretRef and configMapRef (CEL)",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.kubeConfig = { secretRef: { name: "kubeconfig" }, configMapRef: { name: "eks" } };
    }),
    /spec\.kubeConfig: Invalid value: exactly one of spec\.kubeConfig\.configMapRef or spec\.kubeConfig\.secretRef must be specified/,
  ],
  [
    "empty kubeConfig (CEL)",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.kubeConfig = {};
    }),
    /spec\.kubeConfig: Invalid value: exactly one of spec\.kubeConfig\.configMapRef or spec\.kubeConfig\.secretRef must be specified/,
  ],
  [
    "unknown buildMetadata option",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.buildMetadata = ["managedByLabel"];
    }),
    /spec\.buildMetadata\[0\]: Unsupported value: "managedByLabel": supported values: "originAnnotations", "transformerAnnotations"/,
  ],
  [
    "unknown substituteStrategy",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.postBuild = { substituteStrategy: "Never" };
    }),
    /spec\.postBuild\.substituteStrategy: Unsupported value: "Never": supported values: "WithVariables", "Always"/,
  ],
  [
    "health check expression without current",
    kustomizationType,
    breaking(ksMinimal, (s) => {
      s.healthCheckExprs = [{ apiVersion: "example.com/v1", kind: "Thing" }];
    }),
    /spec\.healthCheckExprs\[0\]\.current: Required value/,
  ],
  // Provider
  [
    "unknown provider type",
    providerType,
    breaking(slack, (s) => {
      s.type = "email";
    }),
    /spec\.type: Unsupported value: "email": supported values: "slack", "discord", /,
  ],
  [
    "channel over 2048 characters",
    providerType,
    breaking(slack, (s) => {
      s.channel = long(2049);
    }),
    new RegExp(`spec\\.channel: ${tooLong.source}2048`),
  ],
  [
    "proxy that is not an HTTP URL",
    providerType,
    breaking(slack, (s) => {
      s.proxy = "socks5://proxy:1080";
    }),
    /spec\.proxy: Invalid value: "socks5:\/\/proxy:1080": spec\.proxy in body should match '\^\(http\|https\):\/\/\.\*\$'/,
  ],
  [
    "timeout in hours",
    providerType,
    breaking(slack, (s) => {
      s.timeout = "1h";
    }),
    /spec\.timeout: Invalid value: "1h": spec\.timeout in body should match/,
  ],
  [
    "commitStatusExpr on a chat provider (CEL)",
    providerType,
    breaking(slack, (s) => {
      s.commitStatusExpr = "'flux'";
    }),
    /spec: Invalid value: spec\.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types/,
  ],
  // Alert
  [
    "unknown severity",
    alertType,
    breaking(onCall, (s) => {
      s.eventSeverity = "warning";
    }),
    /spec\.eventSeverity: Unsupported value: "warning": supported values: "info", "error"/,
  ],
  [
    "missing providerRef",
    alertType,
    breaking(onCall, (s) => {
      delete s.providerRef;
    }),
    /spec\.providerRef: Required value/,
  ],
  [
    "missing eventSources",
    alertType,
    breaking(onCall, (s) => {
      delete s.eventSources;
    }),
    /spec\.eventSources: Required value/,
  ],
  [
    "event source of an unknown kind",
    alertType,
    breaking(onCall, (s) => {
      s.eventSources = [{ kind: "Deployment", name: "*" }];
    }),
    /spec\.eventSources\[0\]\.kind: Unsupported value: "Deployment": supported values: "Bucket", "GitRepository", "Kustomization", /,
  ],
  [
    "event source with an empty name",
    alertType,
    breaking(onCall, (s) => {
      s.eventSources = [{ kind: "Kustomization", name: "" }];
    }),
    /spec\.eventSources\[0\]\.name: Invalid value: "": spec\.eventSources\[0\]\.name in body should be at least 1 chars long/,
  ],
  [
    "summary over 255 characters",
    alertType,
    breaking(onCall, (s) => {
      s.summary = long(256);
    }),
    new RegExp(`spec\\.summary: ${tooLong.source}255`),
  ],
  // Receiver
  [
    "unknown receiver type",
    receiverType,
    breaking(githubReceiver, (s) => {
      s.type = "gitea";
    }),
    /spec\.type: Unsupported value: "gitea": supported values: "generic", "generic-hmac", "generic-oidc", "github", /,
  ],
  [
    "missing resources",
    receiverType,
    breaking(githubReceiver, (s) => {
      delete s.resources;
    }),
    /spec\.resources: Required value/,
  ],
  [
    "token receiver without secretRef (CEL)",
    receiverType,
    breaking(githubReceiver, (s) => {
      delete s.secretRef;
    }),
    /spec: Invalid value: secretRef is required when type is not generic-oidc/,
  ],
  [
    "generic-oidc with a secretRef (CEL)",
    receiverType,
    breaking(oidcReceiver, (s) => {
      s.secretRef = { name: "webhook-token" };
    }),
    /spec: Invalid value: secretRef cannot be set when type is generic-oidc/,
  ],
  [
    "generic-oidc without oidcProviders (CEL)",
    receiverType,
    breaking(oidcReceiver, (s) => {
      delete s.oidcProviders;
    }),
    /spec: Invalid value: generic-oidc receivers must define at least one oidcProvider/,
  ],
  [
    "oidcProviders on a github receiver (CEL)",
    receiverType,
    breaking(githubReceiver, (s) => {
      s.oidcProviders = oidcReceiver.spec.oidcProviders;
    }),
    /spec: Invalid value: oidcProviders can only be set when type is generic-oidc/,
  ],
  [
    "OIDC issuer that is not an HTTP URL",
    receiverType,
    breaking(oidcReceiver, (s) => {
      s.oidcProviders = [
        { issuerURL: "token.actions.githubusercontent.com", validations: [{ expression: "true", message: "m" }] },
      ];
    }),
    /spec\.oidcProviders\[0\]\.issuerURL: Invalid value: "token\.actions\.githubusercontent\.com": spec\.oidcProviders\[0\]\.issuerURL in body should match '\^https\?:\/\/'/,
  ],
  [
    "OIDC provider without validations",
    receiverType,
    breaking(oidcReceiver, (s) => {
      s.oidcProviders = [{ issuerURL: "https://issuer.example.com", validations: [] }];
    }),
    /spec\.oidcProviders\[0\]\.validations: Invalid value: 0: spec\.oidcProviders\[0\]\.validations in body should have at least 1 items/,
  ],
  [
    "two OIDC providers with one issuer",
    receiverType,
    breaking(oidcReceiver, (s) => {
      const p = { issuerURL: "https://issuer.example.com", validations: [{ expression: "true", message: "m" }] };
      s.oidcProviders = [p, p];
    }),
    /spec\.oidcProviders\[1\]: Duplicate value: \{"issuerURL":"https:\/\/issuer\.example\.com"\}/,
  ],
  [
    "interval that is not a Go duration",
    receiverType,
    breaking(githubReceiver, (s) => {
      s.interval = "10 min";
    }),
    /spec\.interval: Invalid value: "10 min": spec\.interval in body should match/,
  ],
];

/** [what is broken, kind, name of an accepted object, status a controller tries to write, the apiserver's message] */
const statusCases: [string, KindDescriptor, string, object, RegExp][] = [
  [
    "condition status outside True/False/Unknown",
    gitRepositoryType,
    "podinfo",
    { conditions: [{ ...statusFixtures.GitRepository.conditions[0], status: "Yes" }] },
    /status\.conditions\[0\]\.status: Unsupported value: "Yes": supported values: "True", "False", "Unknown"/,
  ],
  [
    "condition reason that is not CamelCase",
    kustomizationType,
    "podinfo",
    { conditions: [{ ...statusFixtures.Kustomization.conditions[0], reason: "build failed" }] },
    /status\.conditions\[0\]\.reason: Invalid value: "build failed": conditions\[0\]\.reason in body should match '\^\[A-Za-z\]\(\[A-Za-z0-9_,:\]\*\[A-Za-z0-9_\]\)\?\$'/,
  ],
  [
    "condition without a message",
    receiverType,
    "github",
    {
      conditions: [{ type: "Ready", status: "True", reason: "Succeeded", lastTransitionTime: "2026-01-02T03:04:05Z" }],
    },
    /status\.conditions\[0\]\.message: Required value/,
  ],
  [
    "artifact digest without an algorithm",
    gitRepositoryType,
    "podinfo",
    { artifact: { ...statusFixtures.GitRepository.artifact, digest: "2f3b8f3b" } },
    /status\.artifact\.digest: Invalid value: "2f3b8f3b": artifact\.digest in body should match '\^\[a-z0-9\]\+\(\?:\[\.\+_-\]\[a-z0-9\]\+\)\*:\[a-zA-Z0-9=_-\]\+\$'/,
  ],
  [
    "inventory entry without its version",
    kustomizationType,
    "podinfo",
    { inventory: { entries: [{ id: "apps_podinfo_apps_Deployment" }] } },
    /status\.inventory\.entries\[0\]\.v: Required value/,
  ],
];

describe("Given Capstan's CRDs on the real apiserver", () => {
  const scope = useCompatScope("api-reject");
  beforeAll(async () => {
    await scope.objects.create(gitRepositoryType, gitMinimal);
    await scope.objects.create(kustomizationType, ksMinimal);
    await scope.objects.create(receiverType, githubReceiver);
  });

  it.each(cases.map(([what, t, obj, message]) => [t.kind, what, t, obj, message] as const))(
    "should reject a %s with %s, with the apiserver's message",
    async (_, __, t, obj, message) => {
      const renamed = { ...obj, metadata: { name: "invalid" } };
      expect(await rejectionMessage(scope.objects.create(t, renamed))).toMatch(new RegExp(`^422: .*${message.source}`));
    },
  );

  it("should refuse a field Flux does not have, as kubectl apply's strict decoding does (driftIgnoreRules is Flux's ignore)", async () => {
    const obj = breaking(ksMinimal, (s) => {
      s.driftIgnoreRules = [{ paths: ["/spec/replicas"] }];
    });
    const renamed = { ...obj, metadata: { name: "invalid" } };
    expect(await rejectionMessage(scope.objects.create(kustomizationType, renamed))).toMatch(
      /^400: .*unknown field "spec\.driftIgnoreRules"/,
    );
    // Server-side apply (how a parent Kustomization applies a child) refuses it too.
    expect(await rejectionMessage(scope.objects.apply(kustomizationType, renamed))).toMatch(
      /^500: failed to create typed patch object .*: \.spec\.driftIgnoreRules: field not declared in schema/,
    );
  });

  it.each(statusCases.map(([what, t, name, status, message]) => [t.kind, what, t, name, status, message] as const))(
    "should reject a %s status with %s",
    async (_, __, t, name, status, message) => {
      expect(await rejectionMessage(scope.objects.applyStatus(t, name, status))).toMatch(
        new RegExp(`^422: .*${message.source}`),
      );
    },
  );
});
