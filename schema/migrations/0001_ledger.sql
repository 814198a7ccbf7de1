CREATE TYPE "public"."api_key_role" AS ENUM('admin', 'publisher', 'reader');--> statement-breakpoint
CREATE TYPE "public"."batch_kind" AS ENUM('sync', 'upload');--> statement-breakpoint
CREATE TYPE "public"."batch_status" AS ENUM('running', 'committed', 'failed');--> statement-breakpoint
CREATE TYPE "public"."ca_declaration" AS ENUM('committed', 'not-required', 'unknown');--> statement-breakpoint
CREATE TYPE "public"."ca_direction" AS ENUM('add', 'subtract');--> statement-breakpoint
CREATE TYPE "public"."ca_status" AS ENUM('not-started', 'pending', 'completed');--> statement-breakpoint
CREATE TYPE "public"."covered_by_ndc" AS ENUM('inside-ndc', 'outside-ndc', 'unknown');--> statement-breakpoint
CREATE TYPE "public"."event_kind" AS ENUM('issued', 'retired', 'cancelled', 'converted-out', 'converted-in', 'transferred', 'first-transferred', 'ca-applied', 'expired');--> statement-breakpoint
CREATE TYPE "public"."finding_kind" AS ENUM('serial-overlap', 'unnetted-conversion', 'same-activity-overlap', 'cdm-overlap', 'retired-twice', 'tokenized-after-retirement', 'export-not-imported', 'ca-unreported-first-transfer', 'ca-quantity-mismatch', 'ca-range-mismatch', 'ca-mirror-missing', 'ca-unauthorized-use', 'ca-status-overdue', 'contribution-claim-overlap');--> statement-breakpoint
CREATE TYPE "public"."finding_severity" AS ENUM('info', 'low', 'medium', 'high', 'critical');--> statement-breakpoint
CREATE TYPE "public"."finding_status" AS ENUM('open', 'acknowledged', 'resolved', 'dismissed');--> statement-breakpoint
CREATE TYPE "public"."label_type" AS ENUM('endorsement', 'certification', 'letter-of-approval', 'letter-of-authorization', 'letter-of-qualification');--> statement-breakpoint
CREATE TYPE "public"."link_relation" AS ENUM('same-activity', 'transitioned-from', 'converted-to', 'poa-member');--> statement-breakpoint
CREATE TYPE "public"."link_source" AS ENUM('declared', 'inferred');--> statement-breakpoint
CREATE TYPE "public"."project_status" AS ENUM('listed', 'validated', 'registered', 'approved', 'authorized', 'completed', 'transitioned', 'withdrawn', 'deregistered', 'unknown');--> statement-breakpoint
CREATE TYPE "public"."reduction_removal" AS ENUM('reduction', 'removal', 'mixed');--> statement-breakpoint
CREATE TYPE "public"."registry_kind" AS ENUM('independent', 'compliance', 'un-mechanism', 'bilateral', 'national');--> statement-breakpoint
CREATE TYPE "public"."retirement_purpose" AS ENUM('voluntary', 'corsia', 'ndc', 'oimp', 'compliance', 'other');--> statement-breakpoint
CREATE TYPE "public"."serial_scheme" AS ENUM('registry-wide', 'per-issuance', 'kyoto', 'none');--> statement-breakpoint
CREATE TYPE "public"."unit_status" AS ENUM('held', 'retired', 'cancelled', 'expired', 'buffer', 'exported', 'pending-export');--> statement-breakpoint
CREATE TYPE "public"."unit_type" AS ENUM('reduction-nature', 'reduction-technical', 'removal-nature', 'removal-technical');--> statement-breakpoint
CREATE TABLE "registries" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_ja" text NOT NULL,
	"kind" "registry_kind" NOT NULL,
	"serial_scheme" serial_scheme NOT NULL,
	"url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "api_keys_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"organization_id" bigint,
	"role" "api_key_role" NOT NULL,
	"name" text NOT NULL,
	"key_prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_keyPrefix_unique" UNIQUE("key_prefix"),
	CONSTRAINT "api_keys_keyHash_unique" UNIQUE("key_hash"),
	CONSTRAINT "api_keys_publisher_has_organization" CHECK ("api_keys"."role" <> 'publisher' or "api_keys"."organization_id" is not null),
	CONSTRAINT "api_keys_hash_is_sha256" CHECK ("api_keys"."key_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "organizations" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "organizations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"name_ja" text,
	"country" varchar(2),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organizations_slug_unique" UNIQUE("slug"),
	CONSTRAINT "organizations_slug_format" CHECK ("organizations"."slug" ~ '^[a-z0-9][a-z0-9-]*$'),
	CONSTRAINT "organizations_country_format" CHECK ("organizations"."country" ~ '^[A-Z]{2}$')
);
--> statement-breakpoint
CREATE TABLE "label_blocks" (
	"label_id" bigint NOT NULL,
	"block_id" bigint NOT NULL,
	CONSTRAINT "label_blocks_label_id_block_id_pk" PRIMARY KEY("label_id","block_id")
);
--> statement-breakpoint
CREATE TABLE "labels" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "labels_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"project_id" bigint NOT NULL,
	"label_type" "label_type" NOT NULL,
	"label" text NOT NULL,
	"crediting_period_start" date,
	"crediting_period_end" date,
	"validity_period_start" date,
	"validity_period_end" date,
	"unit_quantity" numeric(20, 3),
	"label_link" text,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "labels_natural_key" UNIQUE("project_id","label_type","label"),
	CONSTRAINT "labels_crediting_period_order" CHECK ("labels"."crediting_period_end" >= "labels"."crediting_period_start"),
	CONSTRAINT "labels_validity_period_order" CHECK ("labels"."validity_period_end" >= "labels"."validity_period_start"),
	CONSTRAINT "labels_unit_quantity_not_negative" CHECK ("labels"."unit_quantity" >= 0),
	CONSTRAINT "labels_private_has_owner" CHECK (not "labels"."is_private" or "labels"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "project_links" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "project_links_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"from_project_id" bigint NOT NULL,
	"to_project_id" bigint NOT NULL,
	"relation" "link_relation" NOT NULL,
	"source" "link_source" NOT NULL,
	"score" numeric(4, 3),
	"evidence" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_links_pair" UNIQUE("from_project_id","to_project_id","relation"),
	CONSTRAINT "project_links_not_self" CHECK ("project_links"."from_project_id" <> "project_links"."to_project_id"),
	CONSTRAINT "project_links_score_range" CHECK ("project_links"."score" between 0 and 1),
	CONSTRAINT "project_links_inferred_has_score" CHECK (("project_links"."source" = 'inferred') = ("project_links"."score" is not null))
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "projects_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"registry_id" text NOT NULL,
	"registry_project_id" text NOT NULL,
	"key" text GENERATED ALWAYS AS (registry_id || ':' || registry_project_id) STORED NOT NULL,
	"name" text NOT NULL,
	"name_ja" text,
	"proponent" text,
	"country" varchar(2),
	"region" text,
	"sector" text,
	"cadt_project_type" text,
	"project_type" text,
	"category" text,
	"reduction_removal" "reduction_removal",
	"methodologies" text[] DEFAULT '{}'::text[] NOT NULL,
	"methodology_raw" text,
	"methodology_unmatched" text[] DEFAULT '{}'::text[] NOT NULL,
	"status" "project_status" DEFAULT 'unknown' NOT NULL,
	"status_raw" text,
	"crediting_period_start" date,
	"crediting_period_end" date,
	"registered_on" date,
	"estimated_annual_quantity" numeric(20, 3),
	"eligibility" text[] DEFAULT '{}'::text[] NOT NULL,
	"co_benefits" text[] DEFAULT '{}'::text[] NOT NULL,
	"covered_by_ndc" "covered_by_ndc",
	"latitude" double precision,
	"longitude" double precision,
	"registry_url" text,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"first_batch_id" bigint,
	"last_batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "projects_registry_project" UNIQUE("registry_id","registry_project_id"),
	CONSTRAINT "projects_key" UNIQUE("key"),
	CONSTRAINT "projects_country_format" CHECK ("projects"."country" ~ '^[A-Z]{2}$'),
	CONSTRAINT "projects_crediting_period_order" CHECK ("projects"."crediting_period_end" >= "projects"."crediting_period_start"),
	CONSTRAINT "projects_estimated_quantity_not_negative" CHECK ("projects"."estimated_annual_quantity" >= 0),
	CONSTRAINT "projects_latitude_range" CHECK ("projects"."latitude" between -90 and 90),
	CONSTRAINT "projects_longitude_range" CHECK ("projects"."longitude" between -180 and 180),
	CONSTRAINT "projects_private_has_owner" CHECK (not "projects"."is_private" or "projects"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "ratings" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ratings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"project_id" bigint NOT NULL,
	"rating_type" text NOT NULL,
	"rating" text NOT NULL,
	"rating_range_highest" text,
	"rating_range_lowest" text,
	"rating_link" text,
	"rated_on" date,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ratings_natural_key" UNIQUE("project_id","rating_type"),
	CONSTRAINT "ratings_private_has_owner" CHECK (not "ratings"."is_private" or "ratings"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"registry_id" text NOT NULL,
	"project_id" bigint NOT NULL,
	"issuance_id" bigint,
	"block_id" bigint,
	"kind" "event_kind" NOT NULL,
	"event_key" text NOT NULL,
	"occurred_on" date,
	"quantity" numeric(20, 3) NOT NULL,
	"vintage_year" integer,
	"counterparty_registry_id" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"raw_record_id" bigint,
	"batch_id" bigint NOT NULL,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_natural_key" UNIQUE("registry_id","event_key"),
	CONSTRAINT "events_quantity_positive" CHECK ("events"."quantity" > 0),
	CONSTRAINT "events_private_has_owner" CHECK (not "events"."is_private" or "events"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "issuances" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "issuances_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"registry_id" text NOT NULL,
	"project_id" bigint NOT NULL,
	"issuance_key" text NOT NULL,
	"vintage_start" date,
	"vintage_end" date,
	"vintage_year" integer,
	"issued_on" date,
	"quantity" numeric(20, 3) NOT NULL,
	"credit_type" text,
	"number_space" text,
	"serial_start" bigint,
	"serial_end" bigint,
	"serial_raw" text,
	"buffer_quantity" numeric(20, 3),
	"share_of_proceeds_quantity" numeric(20, 3),
	"omge_quantity" numeric(20, 3),
	"ca_reserve_quantity" numeric(20, 3),
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"first_batch_id" bigint,
	"last_batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "issuances_natural_key" UNIQUE("project_id","issuance_key"),
	CONSTRAINT "issuances_quantity_positive" CHECK ("issuances"."quantity" > 0),
	CONSTRAINT "issuances_vintage_order" CHECK ("issuances"."vintage_end" >= "issuances"."vintage_start"),
	CONSTRAINT "issuances_serial_order" CHECK ("issuances"."serial_end" >= "issuances"."serial_start"),
	CONSTRAINT "issuances_serial_complete" CHECK (("issuances"."serial_start" is null) = ("issuances"."serial_end" is null) and ("issuances"."serial_start" is null or "issuances"."number_space" is not null)),
	CONSTRAINT "issuances_levies_not_negative" CHECK ("issuances"."buffer_quantity" >= 0 and "issuances"."share_of_proceeds_quantity" >= 0 and "issuances"."omge_quantity" >= 0 and "issuances"."ca_reserve_quantity" >= 0),
	CONSTRAINT "issuances_private_has_owner" CHECK (not "issuances"."is_private" or "issuances"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "unit_blocks" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "unit_blocks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"registry_id" text NOT NULL,
	"project_id" bigint NOT NULL,
	"issuance_id" bigint,
	"block_key" text NOT NULL,
	"number_space" text,
	"serial_start" bigint,
	"serial_end" bigint,
	"serial_range" "int8range" GENERATED ALWAYS AS (case when serial_end >= serial_start then int8range(serial_start, serial_end, '[]') end) STORED,
	"serial_raw" text,
	"quantity" numeric(20, 3) NOT NULL,
	"vintage_start" date,
	"vintage_end" date,
	"vintage_year" integer,
	"credit_type" text,
	"unit_type" "unit_type",
	"status" "unit_status" NOT NULL,
	"status_date" date,
	"retirement_beneficiary" text,
	"retirement_reason" text,
	"retirement_purpose" "retirement_purpose",
	"retirement_details" text,
	"account_holder" text,
	"eligibility" text[] DEFAULT '{}'::text[] NOT NULL,
	"article6_authorization" text,
	"ca_declaration" "ca_declaration",
	"ca_status" "ca_status",
	"tokenization_marker" text,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"first_batch_id" bigint,
	"last_batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "unit_blocks_natural_key" UNIQUE("registry_id","block_key"),
	CONSTRAINT "unit_blocks_quantity_positive" CHECK ("unit_blocks"."quantity" > 0),
	CONSTRAINT "unit_blocks_serial_order" CHECK ("unit_blocks"."serial_end" >= "unit_blocks"."serial_start"),
	CONSTRAINT "unit_blocks_serial_complete" CHECK (("unit_blocks"."serial_start" is null) = ("unit_blocks"."serial_end" is null) and ("unit_blocks"."serial_start" is null or "unit_blocks"."number_space" is not null)),
	CONSTRAINT "unit_blocks_quantity_matches_serials" CHECK ("unit_blocks"."serial_start" is null or "unit_blocks"."quantity" = "unit_blocks"."serial_end" - "unit_blocks"."serial_start" + 1),
	CONSTRAINT "unit_blocks_vintage_order" CHECK ("unit_blocks"."vintage_end" >= "unit_blocks"."vintage_start"),
	CONSTRAINT "unit_blocks_private_has_owner" CHECK (not "unit_blocks"."is_private" or "unit_blocks"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "batches" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "batches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" "batch_kind" NOT NULL,
	"status" "batch_status" DEFAULT 'running' NOT NULL,
	"registry_id" text,
	"connector" text NOT NULL,
	"source" text NOT NULL,
	"api_key_id" bigint,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"records_digest" text,
	"previous_batch_id" bigint,
	"digest" text,
	CONSTRAINT "batches_digest" UNIQUE("digest"),
	CONSTRAINT "batches_committed_is_sealed" CHECK ("batches"."status" <> 'committed' or ("batches"."digest" is not null and "batches"."records_digest" is not null and "batches"."finished_at" is not null)),
	CONSTRAINT "batches_only_committed_in_chain" CHECK ("batches"."status" = 'committed' or ("batches"."digest" is null and "batches"."previous_batch_id" is null)),
	CONSTRAINT "batches_digest_is_sha256" CHECK ("batches"."digest" ~ '^[0-9a-f]{64}$' and "batches"."records_digest" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "batches_finished_after_start" CHECK ("batches"."finished_at" >= "batches"."started_at"),
	CONSTRAINT "batches_private_has_owner" CHECK (not "batches"."is_private" or "batches"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "connector_state" (
	"connector" text NOT NULL,
	"stream" text NOT NULL,
	"cursor" jsonb,
	"last_batch_id" bigint,
	"last_run_at" timestamp with time zone,
	"last_success_at" timestamp with time zone,
	"last_error" text,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"next_run_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "connector_state_connector_stream_pk" PRIMARY KEY("connector","stream"),
	CONSTRAINT "connector_state_failures_not_negative" CHECK ("connector_state"."consecutive_failures" >= 0)
);
--> statement-breakpoint
CREATE TABLE "raw_records" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "raw_records_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"batch_id" bigint NOT NULL,
	"registry_id" text,
	"stream" text NOT NULL,
	"source" text NOT NULL,
	"locator" text,
	"record_key" text,
	"content_hash" text NOT NULL,
	"payload" jsonb NOT NULL,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	CONSTRAINT "raw_records_content" UNIQUE NULLS NOT DISTINCT("owner_organization_id","registry_id","stream","content_hash"),
	CONSTRAINT "raw_records_hash_is_sha256" CHECK ("raw_records"."content_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "raw_records_private_has_owner" CHECK (not "raw_records"."is_private" or "raw_records"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "record_lineage" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "record_lineage_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"raw_record_id" bigint NOT NULL,
	"project_id" bigint,
	"issuance_id" bigint,
	"block_id" bigint,
	CONSTRAINT "record_lineage_natural_key" UNIQUE NULLS NOT DISTINCT("raw_record_id","project_id","issuance_id","block_id"),
	CONSTRAINT "record_lineage_one_target" CHECK (num_nonnulls("record_lineage"."project_id", "record_lineage"."issuance_id", "record_lineage"."block_id") = 1)
);
--> statement-breakpoint
CREATE TABLE "finding_status_changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "finding_status_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"finding_id" bigint NOT NULL,
	"from_status" "finding_status",
	"to_status" "finding_status" NOT NULL,
	"reason" text,
	"api_key_id" bigint,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "finding_status_changes_dismissal_has_reason" CHECK ("finding_status_changes"."to_status" <> 'dismissed' or ("finding_status_changes"."reason" is not null and length(trim("finding_status_changes"."reason")) > 0))
);
--> statement-breakpoint
CREATE TABLE "finding_subjects" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "finding_subjects_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"finding_id" bigint NOT NULL,
	"project_id" bigint,
	"issuance_id" bigint,
	"block_id" bigint,
	"raw_record_id" bigint,
	"aef_authorization_id" bigint,
	"aef_action_id" bigint,
	CONSTRAINT "finding_subjects_natural_key" UNIQUE NULLS NOT DISTINCT("finding_id","project_id","issuance_id","block_id","raw_record_id","aef_authorization_id","aef_action_id"),
	CONSTRAINT "finding_subjects_one_target" CHECK (num_nonnulls("finding_subjects"."project_id", "finding_subjects"."issuance_id", "finding_subjects"."block_id", "finding_subjects"."raw_record_id", "finding_subjects"."aef_authorization_id", "finding_subjects"."aef_action_id") = 1)
);
--> statement-breakpoint
CREATE TABLE "findings" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "findings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"fingerprint" text NOT NULL,
	"kind" "finding_kind" NOT NULL,
	"severity" "finding_severity" NOT NULL,
	"status" "finding_status" DEFAULT 'open' NOT NULL,
	"title" text NOT NULL,
	"tonnes_at_risk" numeric(20, 3) DEFAULT 0 NOT NULL,
	"rests_on_inferred_link" boolean DEFAULT false NOT NULL,
	"evidence" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	CONSTRAINT "findings_fingerprint" UNIQUE("fingerprint"),
	CONSTRAINT "findings_tonnes_not_negative" CHECK ("findings"."tonnes_at_risk" >= 0),
	CONSTRAINT "findings_resolved_has_time" CHECK (("findings"."status" = 'resolved') = ("findings"."resolved_at" is not null)),
	CONSTRAINT "findings_private_has_owner" CHECK (not "findings"."is_private" or "findings"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "aef_actions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "aef_actions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"submission_id" bigint,
	"party" varchar(3) NOT NULL,
	"row_key" text NOT NULL,
	"action_date" date,
	"action_type" text NOT NULL,
	"action_subtype" text,
	"cooperative_approach_id" text,
	"authorization_id" text,
	"authorization_row_id" bigint,
	"first_transferring_party_id" varchar(3),
	"party_itmo_registry_id" text,
	"itmo_first_id" text,
	"itmo_last_id" text,
	"unit_registry_id" text,
	"unit_first_id" text,
	"unit_last_id" text,
	"metric" text DEFAULT 'GHG' NOT NULL,
	"quantity_tco2" numeric(20, 3) NOT NULL,
	"mitigation_type" text,
	"vintage_year" integer,
	"quantity_non_ghg" numeric(20, 3),
	"transferring_party_id" varchar(3),
	"acquiring_party_id" varchar(3),
	"purpose_of_use_oimp" text,
	"using_participating_party_id" varchar(3),
	"using_authorized_entity_id" text,
	"itmo_used_year" integer,
	"consistency_check_result" text,
	"additional_information" text,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "aef_actions_natural_key" UNIQUE("party","row_key"),
	CONSTRAINT "aef_actions_party_format" CHECK ("aef_actions"."party" ~ '^[A-Z]{3}$'),
	CONSTRAINT "aef_actions_first_transferring_party_format" CHECK ("aef_actions"."first_transferring_party_id" ~ '^[A-Z]{3}$'),
	CONSTRAINT "aef_actions_transferring_party_format" CHECK ("aef_actions"."transferring_party_id" ~ '^[A-Z]{3}$'),
	CONSTRAINT "aef_actions_acquiring_party_format" CHECK ("aef_actions"."acquiring_party_id" ~ '^[A-Z]{3}$'),
	CONSTRAINT "aef_actions_quantity_positive" CHECK ("aef_actions"."quantity_tco2" > 0),
	CONSTRAINT "aef_actions_private_has_owner" CHECK (not "aef_actions"."is_private" or "aef_actions"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "aef_authorizations" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "aef_authorizations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"party" varchar(3) NOT NULL,
	"authorization_id" text NOT NULL,
	"version" text DEFAULT '1' NOT NULL,
	"authorized_on" date,
	"cooperative_approach_id" text,
	"quantity" numeric(20, 3) NOT NULL,
	"metric" text DEFAULT 'GHG' NOT NULL,
	"gwp_value" text,
	"applicable_non_ghg_metric" text,
	"sector" text,
	"activity_type" text,
	"purposes" text,
	"authorized_party_id" varchar(3),
	"authorized_entity_id" text,
	"oimp_authorized_party" text,
	"timeframe_start" integer,
	"timeframe_end" integer,
	"authorization_terms" text,
	"authorization_documentation" text,
	"first_transfer_definition_oimp" text,
	"additional_information" text,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "aef_authorizations_natural_key" UNIQUE("party","authorization_id","version"),
	CONSTRAINT "aef_authorizations_party_format" CHECK ("aef_authorizations"."party" ~ '^[A-Z]{3}$'),
	CONSTRAINT "aef_authorizations_authorized_party_format" CHECK ("aef_authorizations"."authorized_party_id" ~ '^[A-Z]{3}$'),
	CONSTRAINT "aef_authorizations_quantity_positive" CHECK ("aef_authorizations"."quantity" > 0),
	CONSTRAINT "aef_authorizations_timeframe_order" CHECK ("aef_authorizations"."timeframe_end" >= "aef_authorizations"."timeframe_start"),
	CONSTRAINT "aef_authorizations_private_has_owner" CHECK (not "aef_authorizations"."is_private" or "aef_authorizations"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "aef_authorized_entities" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "aef_authorized_entities_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"party" varchar(3) NOT NULL,
	"entity_id" text NOT NULL,
	"name" text NOT NULL,
	"incorporation_country" text,
	"authorized_on" date,
	"cooperative_approach_id" text,
	"conditions" text,
	"change_conditions" text,
	"additional_information" text,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "aef_authorized_entities_natural_key" UNIQUE NULLS NOT DISTINCT("party","entity_id","cooperative_approach_id"),
	CONSTRAINT "aef_authorized_entities_party_format" CHECK ("aef_authorized_entities"."party" ~ '^[A-Z]{3}$'),
	CONSTRAINT "aef_authorized_entities_private_has_owner" CHECK (not "aef_authorized_entities"."is_private" or "aef_authorized_entities"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "aef_holdings" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "aef_holdings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"submission_id" bigint,
	"party" varchar(3) NOT NULL,
	"row_key" text NOT NULL,
	"snapshot_year" integer NOT NULL,
	"cooperative_approach_id" text,
	"authorization_id" text,
	"authorization_row_id" bigint,
	"first_transferring_party_id" varchar(3),
	"party_itmo_registry_id" text,
	"itmo_first_id" text,
	"itmo_last_id" text,
	"unit_registry_id" text,
	"unit_first_id" text,
	"unit_last_id" text,
	"metric" text DEFAULT 'GHG' NOT NULL,
	"quantity_tco2" numeric(20, 3) NOT NULL,
	"mitigation_type" text,
	"vintage_year" integer,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "aef_holdings_natural_key" UNIQUE("party","row_key"),
	CONSTRAINT "aef_holdings_party_format" CHECK ("aef_holdings"."party" ~ '^[A-Z]{3}$'),
	CONSTRAINT "aef_holdings_quantity_positive" CHECK ("aef_holdings"."quantity_tco2" > 0),
	CONSTRAINT "aef_holdings_private_has_owner" CHECK (not "aef_holdings"."is_private" or "aef_holdings"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "aef_submissions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "aef_submissions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"party" varchar(3) NOT NULL,
	"report_year" integer NOT NULL,
	"version" text DEFAULT '1' NOT NULL,
	"submitted_on" date,
	"ndc_first_year" integer,
	"ndc_last_year" integer,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "aef_submissions_natural_key" UNIQUE("party","report_year","version"),
	CONSTRAINT "aef_submissions_party_format" CHECK ("aef_submissions"."party" ~ '^[A-Z]{3}$'),
	CONSTRAINT "aef_submissions_ndc_period_order" CHECK ("aef_submissions"."ndc_last_year" >= "aef_submissions"."ndc_first_year"),
	CONSTRAINT "aef_submissions_private_has_owner" CHECK (not "aef_submissions"."is_private" or "aef_submissions"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "corresponding_adjustments" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "corresponding_adjustments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"party" varchar(3) NOT NULL,
	"year" integer NOT NULL,
	"cooperative_approach_id" text,
	"direction" "ca_direction" NOT NULL,
	"quantity" numeric(20, 3) NOT NULL,
	"metric" text DEFAULT 'GHG' NOT NULL,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "corresponding_adjustments_natural_key" UNIQUE NULLS NOT DISTINCT("party","year","direction","cooperative_approach_id"),
	CONSTRAINT "corresponding_adjustments_party_format" CHECK ("corresponding_adjustments"."party" ~ '^[A-Z]{3}$'),
	CONSTRAINT "corresponding_adjustments_quantity_not_negative" CHECK ("corresponding_adjustments"."quantity" >= 0),
	CONSTRAINT "corresponding_adjustments_private_has_owner" CHECK (not "corresponding_adjustments"."is_private" or "corresponding_adjustments"."owner_organization_id" is not null)
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "label_blocks" ADD CONSTRAINT "label_blocks_label_id_labels_id_fk" FOREIGN KEY ("label_id") REFERENCES "public"."labels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "label_blocks" ADD CONSTRAINT "label_blocks_block_id_unit_blocks_id_fk" FOREIGN KEY ("block_id") REFERENCES "public"."unit_blocks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_links" ADD CONSTRAINT "project_links_from_project_id_projects_id_fk" FOREIGN KEY ("from_project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_links" ADD CONSTRAINT "project_links_to_project_id_projects_id_fk" FOREIGN KEY ("to_project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_registry_id_registries_id_fk" FOREIGN KEY ("registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_first_batch_id_batches_id_fk" FOREIGN KEY ("first_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_last_batch_id_batches_id_fk" FOREIGN KEY ("last_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ratings" ADD CONSTRAINT "ratings_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ratings" ADD CONSTRAINT "ratings_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ratings" ADD CONSTRAINT "ratings_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_registry_id_registries_id_fk" FOREIGN KEY ("registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_issuance_id_issuances_id_fk" FOREIGN KEY ("issuance_id") REFERENCES "public"."issuances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_block_id_unit_blocks_id_fk" FOREIGN KEY ("block_id") REFERENCES "public"."unit_blocks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_counterparty_registry_id_registries_id_fk" FOREIGN KEY ("counterparty_registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_raw_record_id_raw_records_id_fk" FOREIGN KEY ("raw_record_id") REFERENCES "public"."raw_records"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issuances" ADD CONSTRAINT "issuances_registry_id_registries_id_fk" FOREIGN KEY ("registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issuances" ADD CONSTRAINT "issuances_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issuances" ADD CONSTRAINT "issuances_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issuances" ADD CONSTRAINT "issuances_first_batch_id_batches_id_fk" FOREIGN KEY ("first_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issuances" ADD CONSTRAINT "issuances_last_batch_id_batches_id_fk" FOREIGN KEY ("last_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_blocks" ADD CONSTRAINT "unit_blocks_registry_id_registries_id_fk" FOREIGN KEY ("registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_blocks" ADD CONSTRAINT "unit_blocks_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_blocks" ADD CONSTRAINT "unit_blocks_issuance_id_issuances_id_fk" FOREIGN KEY ("issuance_id") REFERENCES "public"."issuances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_blocks" ADD CONSTRAINT "unit_blocks_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_blocks" ADD CONSTRAINT "unit_blocks_first_batch_id_batches_id_fk" FOREIGN KEY ("first_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_blocks" ADD CONSTRAINT "unit_blocks_last_batch_id_batches_id_fk" FOREIGN KEY ("last_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_registry_id_registries_id_fk" FOREIGN KEY ("registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_previous_batch_id_batches_id_fk" FOREIGN KEY ("previous_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connector_state" ADD CONSTRAINT "connector_state_last_batch_id_batches_id_fk" FOREIGN KEY ("last_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_records" ADD CONSTRAINT "raw_records_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_records" ADD CONSTRAINT "raw_records_registry_id_registries_id_fk" FOREIGN KEY ("registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_records" ADD CONSTRAINT "raw_records_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "record_lineage" ADD CONSTRAINT "record_lineage_raw_record_id_raw_records_id_fk" FOREIGN KEY ("raw_record_id") REFERENCES "public"."raw_records"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "record_lineage" ADD CONSTRAINT "record_lineage_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "record_lineage" ADD CONSTRAINT "record_lineage_issuance_id_issuances_id_fk" FOREIGN KEY ("issuance_id") REFERENCES "public"."issuances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "record_lineage" ADD CONSTRAINT "record_lineage_block_id_unit_blocks_id_fk" FOREIGN KEY ("block_id") REFERENCES "public"."unit_blocks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_status_changes" ADD CONSTRAINT "finding_status_changes_finding_id_findings_id_fk" FOREIGN KEY ("finding_id") REFERENCES "public"."findings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_status_changes" ADD CONSTRAINT "finding_status_changes_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_subjects" ADD CONSTRAINT "finding_subjects_finding_id_findings_id_fk" FOREIGN KEY ("finding_id") REFERENCES "public"."findings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_subjects" ADD CONSTRAINT "finding_subjects_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_subjects" ADD CONSTRAINT "finding_subjects_issuance_id_issuances_id_fk" FOREIGN KEY ("issuance_id") REFERENCES "public"."issuances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_subjects" ADD CONSTRAINT "finding_subjects_block_id_unit_blocks_id_fk" FOREIGN KEY ("block_id") REFERENCES "public"."unit_blocks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_subjects" ADD CONSTRAINT "finding_subjects_raw_record_id_raw_records_id_fk" FOREIGN KEY ("raw_record_id") REFERENCES "public"."raw_records"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_subjects" ADD CONSTRAINT "finding_subjects_aef_authorization_id_aef_authorizations_id_fk" FOREIGN KEY ("aef_authorization_id") REFERENCES "public"."aef_authorizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_subjects" ADD CONSTRAINT "finding_subjects_aef_action_id_aef_actions_id_fk" FOREIGN KEY ("aef_action_id") REFERENCES "public"."aef_actions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_actions" ADD CONSTRAINT "aef_actions_submission_id_aef_submissions_id_fk" FOREIGN KEY ("submission_id") REFERENCES "public"."aef_submissions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_actions" ADD CONSTRAINT "aef_actions_authorization_row_id_aef_authorizations_id_fk" FOREIGN KEY ("authorization_row_id") REFERENCES "public"."aef_authorizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_actions" ADD CONSTRAINT "aef_actions_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_actions" ADD CONSTRAINT "aef_actions_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_authorizations" ADD CONSTRAINT "aef_authorizations_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_authorizations" ADD CONSTRAINT "aef_authorizations_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_authorized_entities" ADD CONSTRAINT "aef_authorized_entities_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_authorized_entities" ADD CONSTRAINT "aef_authorized_entities_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_holdings" ADD CONSTRAINT "aef_holdings_submission_id_aef_submissions_id_fk" FOREIGN KEY ("submission_id") REFERENCES "public"."aef_submissions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_holdings" ADD CONSTRAINT "aef_holdings_authorization_row_id_aef_authorizations_id_fk" FOREIGN KEY ("authorization_row_id") REFERENCES "public"."aef_authorizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_holdings" ADD CONSTRAINT "aef_holdings_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_holdings" ADD CONSTRAINT "aef_holdings_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_submissions" ADD CONSTRAINT "aef_submissions_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aef_submissions" ADD CONSTRAINT "aef_submissions_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "corresponding_adjustments" ADD CONSTRAINT "corresponding_adjustments_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "corresponding_adjustments" ADD CONSTRAINT "corresponding_adjustments_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "label_blocks_block" ON "label_blocks" USING btree ("block_id");--> statement-breakpoint
CREATE INDEX "project_links_to" ON "project_links" USING btree ("to_project_id");--> statement-breakpoint
CREATE INDEX "projects_name_trgm" ON "projects" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "projects_name_ja_trgm" ON "projects" USING gin ("name_ja" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "projects_country" ON "projects" USING btree ("country");--> statement-breakpoint
CREATE INDEX "projects_category" ON "projects" USING btree ("category");--> statement-breakpoint
CREATE INDEX "projects_project_type" ON "projects" USING btree ("project_type");--> statement-breakpoint
CREATE INDEX "projects_eligibility" ON "projects" USING gin ("eligibility");--> statement-breakpoint
CREATE INDEX "projects_methodologies" ON "projects" USING gin ("methodologies");--> statement-breakpoint
CREATE INDEX "projects_owner" ON "projects" USING btree ("owner_organization_id");--> statement-breakpoint
CREATE INDEX "events_project" ON "events" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "events_block" ON "events" USING btree ("block_id");--> statement-breakpoint
CREATE INDEX "events_kind_date" ON "events" USING btree ("kind","occurred_on");--> statement-breakpoint
CREATE INDEX "events_batch" ON "events" USING btree ("batch_id");--> statement-breakpoint
CREATE INDEX "issuances_registry_vintage" ON "issuances" USING btree ("registry_id","vintage_year");--> statement-breakpoint
CREATE INDEX "unit_blocks_serial_range" ON "unit_blocks" USING gist ("number_space","serial_range");--> statement-breakpoint
CREATE INDEX "unit_blocks_number_space_start" ON "unit_blocks" USING btree ("number_space","serial_start");--> statement-breakpoint
CREATE INDEX "unit_blocks_project" ON "unit_blocks" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "unit_blocks_issuance" ON "unit_blocks" USING btree ("issuance_id");--> statement-breakpoint
CREATE INDEX "unit_blocks_registry_status" ON "unit_blocks" USING btree ("registry_id","status");--> statement-breakpoint
CREATE INDEX "unit_blocks_serial_raw" ON "unit_blocks" USING btree ("serial_raw");--> statement-breakpoint
CREATE UNIQUE INDEX "batches_one_successor" ON "batches" USING btree ("previous_batch_id") WHERE "batches"."status" = 'committed';--> statement-breakpoint
CREATE UNIQUE INDEX "batches_one_genesis" ON "batches" USING btree ("status") WHERE "batches"."status" = 'committed' and "batches"."previous_batch_id" is null;--> statement-breakpoint
CREATE INDEX "batches_registry_started" ON "batches" USING btree ("registry_id","started_at");--> statement-breakpoint
CREATE INDEX "raw_records_batch" ON "raw_records" USING btree ("batch_id");--> statement-breakpoint
CREATE INDEX "raw_records_record_key" ON "raw_records" USING btree ("registry_id","record_key");--> statement-breakpoint
CREATE INDEX "record_lineage_project" ON "record_lineage" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "record_lineage_issuance" ON "record_lineage" USING btree ("issuance_id");--> statement-breakpoint
CREATE INDEX "record_lineage_block" ON "record_lineage" USING btree ("block_id");--> statement-breakpoint
CREATE INDEX "finding_status_changes_finding" ON "finding_status_changes" USING btree ("finding_id");--> statement-breakpoint
CREATE INDEX "finding_subjects_block" ON "finding_subjects" USING btree ("block_id");--> statement-breakpoint
CREATE INDEX "finding_subjects_project" ON "finding_subjects" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "findings_kind_status" ON "findings" USING btree ("kind","status");--> statement-breakpoint
CREATE INDEX "aef_actions_authorization" ON "aef_actions" USING btree ("party","authorization_id");