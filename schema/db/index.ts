// The ledger's tables (DESIGN §3), one file per group.
export * from './enums.ts';
export * from './registries.ts';
export * from './organizations.ts';
export * from './projects.ts';
export * from './units.ts';
export * from './mirrors.ts';
export * from './sources.ts';
export * from './findings.ts';
export * from './article6.ts';
export * from './stated-totals.ts';
export * from './tags.ts';
export * from './webhooks.ts';
