// Heap held by N cached Kustomizations shaped as the apiserver serves them in the peer bench, with and without
// metadata.managedFields (runtime stripManagedFields). Run: node --expose-gc bench/peer/informer-mem.mjs <N> <strip: 0 or 1>
const [n, strip] = [Number(process.argv[2]), process.argv[3] === "1"];
const obj = (i) => ({
  apiVersion: "kustomize.toolkit.fluxcd.io/v1",
  kind: "Kustomization",
  metadata: {
    name: `app-${i}`,
    namespace: "apps",
    uid: `5d4c1e0a-0000-4000-8000-${String(i).padStart(12, "0")}`,
    resourceVersion: String(100000 + i),
    generation: 2,
    creationTimestamp: "2026-12-02T04:00:00Z",
    finalizers: ["finalizers.fluxcd.io"],
    managedFields: [
      {
        manager: "kubectl",
        operation: "Apply",
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        time: "2026-12-02T04:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:spec": {
            "f:interval": {},
            "f:path": {},
            "f:prune": {},
            "f:wait": {},
            "f:timeout": {},
            "f:targetNamespace": {},
            "f:sourceRef": { "f:kind": {}, "f:name": {} },
            "f:postBuild": { "f:substitute": { "f:APP_NAME": {}, "f:APP_VERSION": {} } },
          },
        },
      },
      {
        manager: "kustomize-controller",
        operation: "Update",
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        time: "2026-12-02T04:00:10Z",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:metadata": { "f:finalizers": { ".": {}, 'v:"finalizers.fluxcd.io"': {} } } },
      },
      {
        manager: "kustomize-controller",
        operation: "Update",
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        time: "2026-12-02T04:00:20Z",
        fieldsType: "FieldsV1",
        subresource: "status",
        fieldsV1: {
          "f:status": {
            ".": {},
            "f:conditions": {},
            "f:inventory": { ".": {}, "f:entries": {} },
            "f:lastAppliedRevision": {},
            "f:lastAttemptedRevision": {},
            "f:observedGeneration": {},
          },
        },
      },
    ],
  },
  spec: {
    interval: "60m",
    path: "./app",
    prune: true,
    wait: true,
    timeout: "1m",
    targetNamespace: "apps",
    sourceRef: { kind: "GitRepository", name: `app-${i}` },
    postBuild: { substitute: { APP_NAME: `app-${i}`, APP_VERSION: "v1" } },
  },
  status: {
    observedGeneration: 2,
    lastAppliedRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
    lastAttemptedRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "ReconciliationSucceeded",
        message: "Applied revision: main@sha1:0123456789abcdef0123456789abcdef01234567",
        lastTransitionTime: "2026-12-02T04:00:20Z",
        observedGeneration: 2,
      },
    ],
    inventory: {
      entries: ["ServiceAccount", "Service", "Deployment", "Ingress"].map((k) => ({
        id: `apps_app-${i}__${k}`,
        v: "v1",
      })),
    },
  },
});
// Through JSON per object, as the client receives them (no strings shared between objects by construction).
globalThis.gc();
const before = process.memoryUsage().heapUsed;
const cache = new Map();
let bytes = 0;
for (let i = 0; i < n; i++) {
  const text = JSON.stringify(obj(i));
  bytes += text.length;
  const o = JSON.parse(text);
  if (strip) delete o.metadata.managedFields;
  cache.set(o.metadata.name, Object.freeze(o));
}
globalThis.gc();
const after = process.memoryUsage().heapUsed;
console.log(
  JSON.stringify({
    n,
    strip,
    cacheSize: cache.size,
    heapMiB: +((after - before) / 2 ** 20).toFixed(2),
    perObjectBytes: Math.round((after - before) / n),
    jsonBytesPerObject: Math.round(bytes / n),
  }),
);
