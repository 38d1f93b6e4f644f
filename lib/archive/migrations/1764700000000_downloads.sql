-- Up Migration
-- One row per finished download, keyed by the resource's uid: archiving the
-- same download again (a restart, a replayed watch, a second leader) finds
-- its row. Text columns hold lib/archive/stored-text.ts's form; record holds
-- the resource as archived (JSON text, exact), which GET /status answers from.
CREATE TABLE vdl_archived_downloads (
  uid uuid PRIMARY KEY,
  namespace text NOT NULL,
  name text NOT NULL,
  owner text NOT NULL,
  url text NOT NULL,
  extractor text,
  title text,
  state text NOT NULL CHECK (state IN ('DONE', 'FAILED')),
  reason text,
  size bigint,
  sha256 text,
  bucket text,
  object_key text,
  volume_claim text,
  volume_path text,
  collection text,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT now(),
  record text NOT NULL
);
-- GET /downloads: one owner's rows, newest first, paged by (created_at, name) as the live list is,
-- names in byte order (COLLATE "C") whatever the database's collation, as the API compares them.
CREATE INDEX vdl_archived_downloads_owner_created
  ON vdl_archived_downloads (owner, created_at DESC, name COLLATE "C" DESC);
CREATE INDEX vdl_archived_downloads_created ON vdl_archived_downloads (created_at DESC, name COLLATE "C" DESC);
-- GET /status/{id}: a name is unique among one owner's live downloads, not over time; the newest wins.
CREATE INDEX vdl_archived_downloads_owner_name ON vdl_archived_downloads (owner, name, created_at DESC);
-- Retention deletes the oldest finished rows in batches.
CREATE INDEX vdl_archived_downloads_finished ON vdl_archived_downloads (finished_at);
-- Text search in titles and URLs (ILIKE '%term%') with trigram indexes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX vdl_archived_downloads_title_trgm ON vdl_archived_downloads USING gin (title gin_trgm_ops);
CREATE INDEX vdl_archived_downloads_url_trgm ON vdl_archived_downloads USING gin (url gin_trgm_ops);

-- Down Migration
-- Forward only: history is not dropped by a rollback.
