/**
 * The few error classes partkeeper throws. Each message names the object, the problem and the
 * next step; the original error is chained as `cause`.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** A parent that partkeeper cannot manage (missing, not partitioned, unsupported key). */
export class UnmanageableTableError extends Error {
  override readonly name = "UnmanageableTableError";
}

/**
 * The database role lacks a privilege partkeeper needs (SQLSTATE 42501 insufficient_privilege);
 * the message names the grant, or who can do the step instead.
 */
export class InsufficientPrivilegeError extends Error {
  override readonly name = "InsufficientPrivilegeError";
}

/** A DDL statement that kept failing on lock_timeout after every retry. */
export class LockTimeoutError extends Error {
  override readonly name = "LockTimeoutError";
}

/** An archive that could not be written or whose read-back did not match its partition. */
export class ArchiveError extends Error {
  override readonly name: string = "ArchiveError";
}

/** An archive whose read-back did not match its partition; the partition is kept. */
export class ArchiveVerificationError extends ArchiveError {
  override readonly name = "ArchiveVerificationError";
}

/**
 * The partition's manifest (written once) already commits an archive of other content: an earlier
 * archive of this partition, attached again and changed since, or of an earlier table of the same
 * name. The partition is kept; an operator decides (docs/deploy.md, "Archive conflict").
 */
export class ArchiveConflictError extends ArchiveError {
  override readonly name = "ArchiveConflictError";
}

/** A migration step refused or failed: a changed spec, a step out of order, a verification difference. */
export class MigrationError extends Error {
  override readonly name = "MigrationError";
}
