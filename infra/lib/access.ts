/**
 * Least-privilege IAM statements for one job's function, from the catalog's `archiveAccess`.
 * PURE: plain strings in, plain statements out (the shape of sst.aws.Function `permissions`).
 *
 * - read:       s3:GetObject (GET and HEAD) on `<prefix>*`, s3:ListBucket limited to `<prefix>*`.
 * - read-write: the above plus s3:PutObject, and s3:AbortMultipartUpload so a failed multipart upload
 *               of a large Parquet file can be cleaned up (it discards unfinished parts only; it can
 *               never remove a stored object).
 * - none:       nothing on S3.
 * No function gets s3:Delete*, versions, ACL or bucket-configuration actions; no resource is `*`.
 */
import type { ArchiveAccess } from "../../packages/core/src/jobs.ts";

export interface IamStatement {
  readonly actions: ReadonlyArray<string>;
  readonly resources: ReadonlyArray<string>;
  readonly conditions?: ReadonlyArray<{ readonly test: string; readonly variable: string; readonly values: ReadonlyArray<string> }>;
}

export interface ArchiveAccessTarget {
  /** `arn:aws:s3:::<bucket>` */
  readonly bucketArn: string;
  /** Key prefix ending with `/`, e.g. `archive/`. */
  readonly prefix: string;
  /** SSE-KMS key, when the bucket uses one: readers need kms:Decrypt, writers also kms:GenerateDataKey. */
  readonly kmsKeyArn: string | null;
}

export const S3_READ_ACTIONS = ["s3:GetObject"] as const;
export const S3_WRITE_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload"] as const;

export function archiveStatements(access: ArchiveAccess, target: ArchiveAccessTarget): IamStatement[] {
  if (access === "none") return [];
  const objects = `${target.bucketArn}/${target.prefix}*`;
  const statements: IamStatement[] = [
    {
      // ListBucket also decides 404 (not 403) for a HEAD/GET of a missing key, which the written-once
      // store relies on; for that decision S3 evaluates `s3:prefix` as the requested key, so the
      // prefix condition still matches (the behaviour ceph/ceph#68577 copied from AWS).
      actions: ["s3:ListBucket"],
      resources: [target.bucketArn],
      conditions: [{ test: "StringLike", variable: "s3:prefix", values: [`${target.prefix}*`] }],
    },
    { actions: access === "read-write" ? [...S3_READ_ACTIONS, ...S3_WRITE_ACTIONS] : [...S3_READ_ACTIONS], resources: [objects] },
  ];
  if (target.kmsKeyArn !== null) {
    statements.push({
      actions: access === "read-write" ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"],
      resources: [target.kmsKeyArn],
    });
  }
  return statements;
}

/** Lets Lambda's async on-failure destination put failed events on the dead-letter queue. */
export function deadLetterStatement(queueArn: string): IamStatement {
  return { actions: ["sqs:SendMessage"], resources: [queueArn] };
}

/** Copies statements into the mutable shape sst.aws.Function `permissions` expects. */
export function toFunctionPermissions(statements: ReadonlyArray<IamStatement>) {
  return statements.map((s) => ({
    actions: [...s.actions],
    resources: [...s.resources],
    ...(s.conditions ? { conditions: s.conditions.map((c) => ({ ...c, values: [...c.values] })) } : {}),
  }));
}
