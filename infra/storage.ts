/**
 * The archive bucket: versioned, encrypted (SSE-S3, or SSE-KMS with PARTKEEPER_KMS_KEY_ARN), all
 * public access blocked, a bucket policy that denies non-TLS requests (sst.aws.Bucket `enforceHttps`),
 * archives moved to a colder class after PARTKEEPER_COLD_STORAGE_DAYS, and optional Object Lock in
 * governance mode (write-once archives).
 */
import { settings } from "./settings.ts";

const objectLock = settings.objectLockDays !== null;

export const archiveBucket = new sst.aws.Bucket("Archive", {
  versioning: true,
  // Adds the Deny statement on aws:SecureTransport=false for the bucket and every object.
  enforceHttps: true,
  cors: false,
  transform: {
    bucket: (args) => {
      // Archives are the only copy of dropped partitions: never empty the bucket on `sst remove`.
      args.forceDestroy = false;
      // Object Lock can only be switched on when the bucket is created (changing it replaces the bucket).
      args.objectLockEnabled = objectLock;
    },
    publicAccessBlock: {
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
  },
});

new aws.s3.BucketServerSideEncryptionConfiguration("ArchiveEncryption", {
  bucket: archiveBucket.name,
  rules: [
    {
      applyServerSideEncryptionByDefault:
        settings.kmsKeyArn === null
          ? { sseAlgorithm: "AES256" }
          : { sseAlgorithm: "aws:kms", kmsMasterKeyId: settings.kmsKeyArn },
      // S3 Bucket Keys cut KMS requests (and cost) for the many objects an archive run writes.
      bucketKeyEnabled: settings.kmsKeyArn !== null,
    },
  ],
});

new aws.s3.BucketLifecycleConfiguration("ArchiveLifecycle", {
  bucket: archiveBucket.name,
  rules: [
    ...(settings.coldStorageDays > 0
      ? [
          {
            id: "archives-to-cold-storage",
            status: "Enabled",
            filter: { prefix: settings.archivePrefix },
            transitions: [{ days: settings.coldStorageDays, storageClass: settings.coldStorageClass }],
          },
        ]
      : []),
    {
      // Parts of a multipart upload that never completed (a run that hit its deadline) cost money forever.
      id: "abort-incomplete-uploads",
      status: "Enabled",
      filter: { prefix: settings.archivePrefix },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
    },
  ],
});

if (settings.objectLockDays !== null) {
  new aws.s3.BucketObjectLockConfiguration("ArchiveObjectLock", {
    bucket: archiveBucket.name,
    objectLockEnabled: "Enabled",
    rule: { defaultRetention: { mode: "GOVERNANCE", days: settings.objectLockDays } },
  });
}
