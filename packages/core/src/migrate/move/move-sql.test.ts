import { describe, expect, it } from "vitest";
import { checkConditionSql, lowestToMoveSql, moveBatchSql } from "./move-sql.ts";

const spec = {
  table: { schema: "app", name: 'hej"hej' },
  target: { schema: "Archive", name: "Événements" },
  key: "eventId",
  where: "done and done_at < now() - interval '30 days'",
};

describe("move SQL", () => {
  it("a batch from the start of a pass: pick, delete and insert in one statement, with the last key as text", () => {
    expect(moveBatchSql(spec, ["eventId", "done_at", "done"])).toBe(
      [
        `with picked as (`,
        `  select "eventId" from "app"."hej""hej" where (done and done_at < now() - interval '30 days') order by "eventId" limit $1 for update skip locked`,
        `), moved as (`,
        `  delete from "app"."hej""hej" s where s."eventId" = any(array(select "eventId" from picked)) returning s.*`,
        `), inserted as (`,
        `  insert into "Archive"."Événements" ("eventId", "done_at", "done") overriding system value select "eventId", "done_at", "done" from moved returning 1`,
        `)`,
        `select (select count(*) from moved)::int8 as moved, (select count(*) from inserted)::int8 as inserted,`,
        `  (select m."eventId"::text from moved m order by m."eventId" desc limit 1) as last`,
      ].join("\n"),
    );
  });

  it("a batch continuing a pass starts after the previous batch's last key, $2", () => {
    expect(moveBatchSql(spec, ["eventId"], { after: true }).split("\n")[1]).toBe(
      `  select "eventId" from "app"."hej""hej" where (done and done_at < now() - interval '30 days') and "eventId" > $2 order by "eventId" limit $1 for update skip locked`,
    );
  });

  it("the lowest partition key to move, and the condition check that reads no row", () => {
    expect(lowestToMoveSql(spec, "done_at")).toBe(`select min("done_at") from "app"."hej""hej" where (done and done_at < now() - interval '30 days')`);
    expect(checkConditionSql(spec)).toBe(`select from "app"."hej""hej" where (done and done_at < now() - interval '30 days') limit 0`);
  });
});
