import type { ColumnInfo } from "../catalog/types.ts";
import { displayName, type QualifiedName } from "../identifier.ts";
import type { ParquetColumn } from "../parquet/parquet-types.ts";

/** PURE checks of an archive's columns against a table's before a restore loads or attaches it. */

/**
 * How `columns` (a parent's, or an existing target's) differ from the archive's: a manifest column
 * missing or of another type, or a column the archive does not have. Empty when they are the same
 * set of names and types (order does not matter: COPY and ATTACH match columns by name).
 * A parent that gained a column since the archive counts too: attaching would give the archived rows
 * values they never had (the column's default or NULL, or fail on NOT NULL), so attach mode refuses
 * and side-table mode builds the table from the manifest's types (docs/restore.md).
 * Example: `amount numeric(12,2) (now numeric(14,2))`, `note text (missing)`, `extra text (added since the archive)`.
 */
export function columnDifferences(manifest: ReadonlyArray<ParquetColumn>, columns: ReadonlyArray<ColumnInfo>): string[] {
  const byName = new Map(columns.map((c) => [c.name, c.type]));
  const archived = new Set(manifest.map((m) => m.name));
  return [
    ...manifest.flatMap((m) => {
      const type = byName.get(m.name);
      if (type === undefined) return [`${m.name} ${m.pgType} (missing)`];
      return type === m.pgType ? [] : [`${m.name} ${m.pgType} (now ${type})`];
    }),
    ...columns.filter((c) => !archived.has(c.name)).map((c) => `${c.name} ${c.type} (added since the archive)`),
  ];
}

/**
 * Columns that are generated in one of `parent` and `table` and plain in the other, e.g.
 * `column g is generated in public.events and a plain column here`. ATTACH refuses such a table
 * (`column "g" in child table must be a generated column`). Empty when they agree.
 */
export function generatedDifferences(parent: QualifiedName, parentColumns: ReadonlyArray<ColumnInfo>, table: ReadonlyArray<ColumnInfo>): string[] {
  const generated = new Map(table.map((c) => [c.name, c.generated === true]));
  return parentColumns.flatMap((c) => {
    const here = generated.get(c.name);
    if (here === undefined || here === (c.generated === true)) return [];
    return [`column ${c.name} is ${c.generated ? "generated" : "plain"} in ${displayName(parent)} and ${here ? "a generated" : "a plain"} column here`];
  });
}
