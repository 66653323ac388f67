/**
 * Archives in several Parquet parts (issue 8; archive/archive-parts.ts): `archive.parts` holds the
 * part plan of the current export attempt (the partition's page count, relfilenode and each part's
 * page range) and every part already uploaded and verified (key, rows, bytes, SHA-256, content
 * summary, duration), so an archive stopped by the job's deadline, a crash or a failed upload
 * continues with its first unfinished part. NULL for archives of one object.
 */
export const sql = `
alter table partkeeper.archive add column parts jsonb;
comment on column partkeeper.archive.parts is 'Part plan and finished parts of the current attempt of an archive in several Parquet parts (partkeeper archive/archive-parts.ts); NULL for one object.';
`;
