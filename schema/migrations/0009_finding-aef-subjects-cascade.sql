ALTER TABLE "finding_subjects" DROP CONSTRAINT "finding_subjects_aef_authorization_id_aef_authorizations_id_fk";
--> statement-breakpoint
ALTER TABLE "finding_subjects" DROP CONSTRAINT "finding_subjects_aef_action_id_aef_actions_id_fk";
--> statement-breakpoint
ALTER TABLE "finding_subjects" ADD CONSTRAINT "finding_subjects_aef_authorization_id_aef_authorizations_id_fk" FOREIGN KEY ("aef_authorization_id") REFERENCES "public"."aef_authorizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_subjects" ADD CONSTRAINT "finding_subjects_aef_action_id_aef_actions_id_fk" FOREIGN KEY ("aef_action_id") REFERENCES "public"."aef_actions"("id") ON DELETE cascade ON UPDATE no action;