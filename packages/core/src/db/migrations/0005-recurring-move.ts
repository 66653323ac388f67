/**
 * Recurring moves (migrate/move/): `pass_finished_at` is when a move's last complete pass ended (no
 * row matched any more); the next pass starts once its `every` has passed since.
 */
export const sql = `
alter table partkeeper.data_migration add column pass_finished_at timestamptz;
`;
