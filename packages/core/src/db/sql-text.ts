import type { QualifiedName } from "../identifier.ts";

/**
 * The one place DDL text is quoted. DDL must be printable for `plan` (STYLE.md rule 9) and
 * postgres.js cannot render a query client-side, so DDL is built as text here and run with
 * `sql.unsafe`. Identifiers in ordinary queries also come from here, as `sql.unsafe(quoteIdent(x))`
 * fragments, because postgres.js's `sql(name)` splits on dots (`"a.b"` becomes `"a"."b"`,
 * postgres/src/types.js `escapeIdentifier`), which would address the wrong table. Values stay
 * bind parameters.
 */

/** `"name"` with embedded double quotes doubled (Postgres docs, 4.1.1 "Identifiers and Key Words"). */
export function quoteIdent(name: string): string {
  if (name.includes("\0")) throw new Error(`identifier contains a NUL byte: ${JSON.stringify(name)}`);
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."name"` */
export function quoteQualified(q: QualifiedName): string {
  return `${quoteIdent(q.schema)}.${quoteIdent(q.name)}`;
}

/**
 * A string constant for the parts of DDL that cannot be bind parameters (partition bounds,
 * `lock_timeout`): `'it''s'`. Backslashes are literal because standard_conforming_strings is on
 * (the default since Postgres 9.1); a value containing a backslash is written as an E'' string
 * so the text is right whatever that setting is.
 */
export function literal(value: string): string {
  if (value.includes("\0")) throw new Error(`literal contains a NUL byte: ${JSON.stringify(value)}`);
  const quoted = value.replaceAll("'", "''");
  return value.includes("\\") ? `E'${quoted.replaceAll("\\", "\\\\")}'` : `'${quoted}'`;
}
