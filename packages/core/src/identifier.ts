/**
 * A schema-qualified relation name, kept structured so that a name containing a dot, a quote
 * or any unicode is never split or spliced (STYLE.md rule 6).
 */
export interface QualifiedName {
  readonly schema: string;
  readonly name: string;
}

/** Postgres truncates identifiers to NAMEDATALEN - 1 = 63 bytes (Postgres docs, "Identifiers and Key Words"). */
export const MAX_IDENTIFIER_BYTES = 63;

/** A frozen QualifiedName; names are kept exactly as given (case, quotes, unicode). */
export function qualifiedName(schema: string, name: string): QualifiedName {
  return Object.freeze({ schema, name });
}

/** `schema.name` for logs and messages only; never for SQL (use `quoteQualified`). */
export function displayName(q: QualifiedName): string {
  return `${q.schema}.${q.name}`;
}

/** True when both name the same relation (exact, case-sensitive comparison, as Postgres compares quoted names). */
export function sameName(a: QualifiedName, b: QualifiedName): boolean {
  return a.schema === b.schema && a.name === b.name;
}

/** A Map or Set key equal for names sameName calls equal (no separator a name could contain). */
export function nameKey(q: QualifiedName): string {
  return JSON.stringify([q.schema, q.name]);
}
