// Kept only because bench/package.json's bench:kustomize script still imports this path; the hook itself is
// @capstan/cluster's. Delete this file once that script imports @capstan/cluster/ts-hooks.mjs.
import "@capstan/cluster/ts-hooks.mjs";
