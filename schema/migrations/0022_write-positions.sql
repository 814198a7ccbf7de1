CREATE TABLE "write_positions" (
	"writer" text PRIMARY KEY NOT NULL,
	"lsn" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
