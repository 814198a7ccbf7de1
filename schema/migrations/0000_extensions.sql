-- Extensions the ledger uses. Both ship with PostgreSQL's contrib and with PGlite, and are trusted
-- extensions (PostgreSQL 13+), so a database owner can create them without superuser rights.
-- btree_gist: GiST indexes that combine a number space (text) with a serial int8range.
-- pg_trgm: trigram similarity on project names, for search and for inferring cross-registry links.
CREATE EXTENSION IF NOT EXISTS btree_gist;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS pg_trgm;
