import type postgres from "postgres";
import type { ConfigInput } from "@partkeeper/core";

/**
 * A small transform migration for the engine's tests (the full worked example is
 * examples/record-history): `author` drives; `post` (one per author change) and `post_tag` (tags of
 * a post) become `post_v2` (tags folded into an array, partitioned by month) and `author_stats`
 * (posts and tags per author). Old names stay readable through views after cutover; a reverse
 * transform replays posts written to post_v2 into the retired tables.
 */

export const TRANSFORM_ID = "fold-post-tags";

type MigrationInput = NonNullable<ConfigInput["migrations"]>[number];

export function transformSpec(overrides: Record<string, unknown> = {}): MigrationInput {
  return {
    id: TRANSFORM_ID,
    kind: "transform",
    driving: { table: "author", key: "id" },
    prepare: [
      `create table post_v2 (id bigint not null, author_id int not null, title text not null, tags text[] not null,
         created_at timestamptz not null, primary key (id, created_at)) partition by range (created_at)`,
      "create index on post_v2 (author_id)",
      "create table author_stats (author_id int primary key, posts int not null, tags int not null)",
    ],
    targets: [{ table: "post_v2", coverFrom: "select min(created_at) from public.post" }, { table: "author_stats" }],
    transform: [
      "delete from post_v2 where author_id = any($1)",
      `insert into post_v2 (id, author_id, title, tags, created_at)
         select p.id, p.author_id, p.title, coalesce(array(select t.tag from post_tag t where t.post_id = p.id order by t.tag), '{}'), p.created_at
         from post p where p.author_id = any($1)`,
      "delete from author_stats where author_id = any($1)",
      `insert into author_stats (author_id, posts, tags)
         select a.id, (select count(*) from post p where p.author_id = a.id),
                (select count(*) from post p join post_tag t on t.post_id = p.id where p.author_id = a.id)
         from author a where a.id = any($1)`,
    ],
    capture: [
      { table: "author", drivingKeys: "select id from changed" },
      { table: "post", drivingKeys: "select author_id from changed" },
      { table: "post_tag", drivingKeys: "select p.author_id from changed c join public.post p on p.id = c.post_id" },
    ],
    verify: [
      { name: "posts", hash: { source: { table: "post" }, target: { table: "post_v2" }, key: "author_id", columns: ["id", "author_id", "title", "created_at"] } },
      {
        name: "tags",
        source: "select count(*)::int8 as n, coalesce(sum(hashtext(t.post_id || '/' || t.tag)::int8), 0) as h from post_tag t join post p on p.id = t.post_id where p.author_id = any($1)",
        target: "select count(*)::int8 as n, coalesce(sum(hashtext(v.id || '/' || tag)::int8), 0) as h from post_v2 v, unnest(v.tags) tag where v.author_id = any($1)",
      },
      {
        name: "stats",
        source: "select count(*)::int8 as authors, coalesce(sum((select count(*) from post p where p.author_id = a.id)), 0)::int8 as posts from author a where a.id = any($1)",
        target: "select count(*)::int8 as authors, coalesce(sum(posts), 0)::int8 as posts from author_stats where author_id = any($1)",
      },
    ],
    cutover: {
      retire: [{ table: "post_tag" }, { table: "post" }],
      views: [
        "create view post as select id, author_id, title, created_at from post_v2",
        "create view post_tag as select v.id as post_id, tag from post_v2 v, unnest(v.tags) tag",
      ],
    },
    reverse: {
      capture: [{ table: "post_v2", drivingKeys: "select author_id from changed" }],
      transform: [
        "delete from post_tag_retired t using post_retired p where p.id = t.post_id and p.author_id = any($1) and not exists (select 1 from post_v2 v where v.id = p.id and t.tag = any(v.tags))",
        "delete from post_retired p where p.author_id = any($1) and not exists (select 1 from post_v2 v where v.id = p.id)",
        `insert into post_retired (id, author_id, title, created_at) overriding system value
           select v.id, v.author_id, v.title, v.created_at from post_v2 v where v.author_id = any($1)
           on conflict (id) do update set title = excluded.title, author_id = excluded.author_id, created_at = excluded.created_at`,
        `insert into post_tag_retired (post_id, tag) select v.id, tag from post_v2 v, unnest(v.tags) tag where v.author_id = any($1)
           on conflict do nothing`,
      ],
    },
    swap: "manual",
    batch: { targetMs: 200, initialSize: 50 },
    ...overrides,
  } as MigrationInput;
}

/** The config: post_v2's monthly policy (premake 2 from the test clock 2026-11-21) and the migration. */
export function transformConfig(overrides: Record<string, unknown> = {}, config: Partial<ConfigInput> = {}): ConfigInput {
  return {
    tables: [{ table: "post_v2", strategy: "range-time", interval: "month", premake: 2 }],
    migrations: [transformSpec(overrides)],
    ...config,
  };
}

/** `authors` authors with 0-5 posts each (one every 7 hours from 2026-03-01) and 0-3 tags per post. */
export async function createBlog(sql: postgres.Sql, authors: number): Promise<void> {
  await sql.unsafe(`
    create table author (id int primary key, name text not null);
    create table post (id bigint generated by default as identity primary key, author_id int not null references author (id),
      title text not null, created_at timestamptz not null);
    create index on post (author_id);
    create table post_tag (post_id bigint not null references post (id), tag text not null, primary key (post_id, tag));
    insert into author select g, 'author ' || g from generate_series(1, ${authors}) g;
    insert into post (author_id, title, created_at)
      select a, 'post ' || a || '.' || n, timestamptz '2026-03-01 00:00:00+00' + ((a * 5 + n) % 5000) * interval '7 hours'
      from generate_series(1, ${authors}) a, generate_series(1, a % 6) n;
    insert into post_tag select p.id, 'tag' || k from post p, generate_series(1, p.id % 4) k;
    analyze author; analyze post; analyze post_tag;
  `);
}
