import { describe, expect, it } from "vitest";
import { JOBS } from "../../packages/core/src/jobs.ts";
import { archiveStatements, deadLetterStatement, type IamStatement } from "../../infra/lib/access.ts";

const target = { bucketArn: "arn:aws:s3:::pk-archive", prefix: "archive/", kmsKeyArn: null };
const KMS = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

function actions(statements: ReadonlyArray<IamStatement>): string[] {
  return statements.flatMap((s) => s.actions).sort();
}

describe("archiveStatements", () => {
  it("gives the export (read-write) job put/get/head/list on the prefix, nothing else", () => {
    const s = archiveStatements("read-write", target);
    // s3:GetObject authorizes both GET and HEAD; s3:AbortMultipartUpload only discards unfinished parts.
    expect(actions(s)).toEqual(["s3:AbortMultipartUpload", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
    expect(s).toContainEqual({ actions: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], resources: ["arn:aws:s3:::pk-archive/archive/*"] });
    expect(s).toContainEqual({
      actions: ["s3:ListBucket"],
      resources: ["arn:aws:s3:::pk-archive"],
      conditions: [{ test: "StringLike", variable: "s3:prefix", values: ["archive/*"] }],
    });
  });

  it("gives restore (read) get/head/list only", () => {
    expect(actions(archiveStatements("read", target))).toEqual(["s3:GetObject", "s3:ListBucket"]);
  });

  it("gives jobs without archive access nothing", () => {
    expect(archiveStatements("none", target)).toEqual([]);
  });

  it("adds only the KMS actions each side needs, on the key only", () => {
    const rw = archiveStatements("read-write", { ...target, kmsKeyArn: KMS });
    expect(rw).toContainEqual({ actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [KMS] });
    expect(archiveStatements("read", { ...target, kmsKeyArn: KMS })).toContainEqual({ actions: ["kms:Decrypt"], resources: [KMS] });
  });

  it("never grants delete, wildcards or other buckets to any catalog job", () => {
    for (const job of JOBS) {
      const statements = [...archiveStatements(job.archiveAccess, { ...target, kmsKeyArn: KMS }), deadLetterStatement("arn:aws:sqs:eu-west-1:123456789012:dlq")];
      for (const s of statements) {
        for (const action of s.actions) {
          expect(action, job.name).not.toMatch(/\*|Delete|Version|Acl|PutBucket|PutLifecycle|BypassGovernance/);
        }
        for (const resource of s.resources) {
          expect(resource, job.name).not.toBe("*");
          expect(resource, job.name).toMatch(/^arn:aws:(s3:::pk-archive|kms:|sqs:)/);
        }
      }
    }
  });

  it("matches the catalog: maintain none, archive read-write, restore read, migrate and refresh-stats none", () => {
    const access = Object.fromEntries(JOBS.map((j) => [j.name, j.archiveAccess]));
    expect(access).toEqual({ maintain: "none", archive: "read-write", restore: "read", migrate: "none", "refresh-stats": "none" });
  });
});
