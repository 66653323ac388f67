/**
 * The one definition of a "major version" in this example: version 1 (the create) and every tenth
 * version after it, i.e. `version_number % 10 = 1` (1, 11, 21, ...). Major versions keep their full
 * snapshot in the new tables; every other snapshot is dropped. Every SQL text of the example that
 * needs the rule (seed, transform, verify, views, old queries) is built from `isMajorVersion`.
 */
export const MAJOR_VERSION_EVERY = 10;

/** SQL condition that `column` (an int version number) is a major version: `(<column> % 10 = 1)`. */
export function isMajorVersion(column: string): string {
  return `(${column} % ${MAJOR_VERSION_EVERY} = 1)`;
}
