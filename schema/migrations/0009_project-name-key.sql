ALTER TABLE "projects" ADD COLUMN "name_key" text;--> statement-breakpoint
CREATE INDEX "projects_name_key_trgm" ON "projects" USING gin ("name_key" gin_trgm_ops);