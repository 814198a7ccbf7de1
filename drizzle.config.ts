import { defineConfig } from 'drizzle-kit';

// drizzle-kit reads the schema and writes SQL migrations; it never connects to a database here.
export default defineConfig({
  dialect: 'postgresql',
  schema: './schema/db/index.ts',
  out: './schema/migrations',
  casing: 'snake_case',
});
