/**
 * Quoting for archive SQL text. Identifiers (Postgres and DuckDB share the rule: double quotes,
 * `"` doubled) come from the project's one quoting module, db/sql-text.ts (STYLE.md rule 6).
 * DuckDB string literals (file paths, type names in `read_csv(columns = {...})`) are quoted here:
 * DuckDB never treats backslash specially, so `db/sql-text.ts` `literal()` (which switches to E''
 * strings for backslashes) is not right for DuckDB.
 */
export { quoteIdent, quoteQualified } from "../db/sql-text.ts";

/** DuckDB string constant: `it's` -> `'it''s'`. @throws TypeError for text with a NUL character. */
export function quoteLiteral(text: string): string {
  if (text.includes("\0")) throw new TypeError(`literal ${JSON.stringify(text)} contains a NUL character`);
  return `'${text.replaceAll("'", "''")}'`;
}
