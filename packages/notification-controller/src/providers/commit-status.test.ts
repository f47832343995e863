import { describe, expect, it } from "vitest";
import { sampleEvent } from "../testing/fixtures.js";
import {
  commitStatusId,
  githubStatusRequest,
  gitlabStatusRequest,
  isDuplicateGithubStatus,
  parseGitAddress,
  parseRevision,
  splitCamelcase,
  statusDescription,
} from "./commit-status.js";

const sha = "0123456789abcdef0123456789abcdef01234567";
const uid = "a3f5c2e1-1111-2222-3333-444455556666";

describe("revision parsing", () => {
  it.each([
    [`main@sha1:${sha}`, sha],
    [`refs/tags/v1.0.0@sha1:${sha}`, sha],
    [`sha1:${sha}`, sha],
    [`main/${sha}`, sha],
    [sha.toUpperCase(), sha],
  ])("Given %s / should extract the commit hash", (rev, want) => {
    expect(parseRevision(rev)).toBe(want);
  });

  it("Given a revision without a hash / should fail without retry", () => {
    expect(() => parseRevision("main@sha1:xyz")).toThrow(/failed to extract commit hash/);
  });
});

describe("repository address", () => {
  it.each([
    ["https://github.com/stefanprodan/podinfo", "https://github.com", "stefanprodan/podinfo"],
    ["https://github.com/stefanprodan/podinfo.git", "https://github.com", "stefanprodan/podinfo"],
    ["ssh://git@github.com/org/repo.git", "https://github.com", "org/repo"],
    ["git@gitlab.com:group/sub/project.git", "https://gitlab.com", "group/sub/project"],
    ["http://127.0.0.1:8080/org/repo", "http://127.0.0.1:8080", "org/repo"],
  ])("Given %s / should find host and repository id", (address, host, id) => {
    expect(parseGitAddress(address)).toEqual({ host, id });
  });
});

describe("status fields", () => {
  it("Given reasons in CamelCase / should describe them as Flux does", () => {
    expect(splitCamelcase("HealthCheckFailed")).toEqual(["Health", "Check", "Failed"]);
    expect(splitCamelcase("PDFLoader")).toEqual(["PDF", "Loader"]);
    expect(statusDescription(sampleEvent({ reason: "ReconciliationSucceeded" }))).toBe("reconciliation succeeded");
  });

  it("Given a Provider UID / should build the context from kind, name and its first segment", () => {
    expect(commitStatusId(uid, sampleEvent({ involvedObject: { kind: "Kustomization", name: "Apps" } }))).toBe(
      "kustomization/apps/a3f5c2e1",
    );
  });

  it("Given a GitHub provider / should post success to the enterprise API for a non-github.com host", () => {
    const req = githubStatusRequest(sampleEvent({ reason: "ReconciliationSucceeded" }), {
      address: "https://ghe.example.com/org/repo",
      token: "t0ken",
      statusId: "gitrepository/webapp/a3f5c2e1",
    });
    expect(req?.url).toBe(`https://ghe.example.com/api/v3/repos/org/repo/statuses/${sha}`);
    expect(req?.headers.authorization).toBe("Bearer t0ken");
    expect(JSON.parse(req?.body as string)).toEqual({
      state: "success",
      description: "reconciliation succeeded",
      context: "gitrepository/webapp/a3f5c2e1",
    });
    const public_ = githubStatusRequest(sampleEvent({ severity: "error" }), {
      address: "https://github.com/org/repo",
      token: "t",
      statusId: "gitrepository/webapp/a3f5c2e1",
    });
    expect(public_?.url).toBe(`https://api.github.com/repos/org/repo/statuses/${sha}`);
    expect(JSON.parse(public_?.body as string).state).toBe("failure");
  });

  it("Given a Progressing event / should not set a status", () => {
    const opts = { address: "https://github.com/o/r", token: "t", statusId: "x" };
    expect(githubStatusRequest(sampleEvent({ reason: "Progressing" }), opts)).toBeUndefined();
  });

  it("Given a GitLab provider / should post to the project's statuses with PRIVATE-TOKEN", () => {
    const req = gitlabStatusRequest(sampleEvent({ severity: "error", reason: "BuildFailed" }), {
      address: "https://gitlab.com/group/sub/project",
      token: "glpat",
      statusId: "gitrepository/webapp/a3f5c2e1",
    });
    expect(req?.url).toBe(`https://gitlab.com/api/v4/projects/group%2Fsub%2Fproject/statuses/${sha}`);
    expect(req?.headers["private-token"]).toBe("glpat");
    expect(JSON.parse(req?.body as string)).toEqual({
      state: "failed",
      name: "gitrepository/webapp/a3f5c2e1",
      description: "build failed",
    });
  });

  it("Given the latest status with our context already equal / should be a duplicate", () => {
    const wanted = { state: "success", description: "ok", context: "c" };
    expect(isDuplicateGithubStatus([{ context: "c", state: "success", description: "ok" }], wanted)).toBe(true);
    expect(
      isDuplicateGithubStatus(
        [
          { context: "c", state: "failure", description: "bad" },
          { context: "c", state: "success", description: "ok" },
        ],
        wanted,
      ),
    ).toBe(false);
  });
});
