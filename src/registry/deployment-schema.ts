/**
 * The deployment tables: the current routes of each endpoint and every change to them. Kept apart
 * from schema.ts so that the deployment store is one module; schema.ts lists the migration.
 */
import type { Kysely, Migration } from 'kysely';

export interface DeploymentsTable {
  /** A model name: an endpoint is served by versions of the model of the same name. */
  endpoint: string;
  /** JSON DeploymentRoutes, normalized. */
  routes: string;
  /** The history id of the change that wrote this state (for compare-and-set writes). */
  revision: number;
  updated_at: string;
  updated_by: string;
}

export interface DeploymentHistoryTable {
  endpoint: string;
  /** 1, 2, ... per endpoint, never reused (history outlives a deleted deployment). */
  id: number;
  at: string;
  actor: string;
  action: string;
  /** JSON routes before the change, null when there was no deployment. */
  before: string | null;
  /** JSON routes after the change, null when the deployment was deleted. */
  after: string | null;
  reason: string | null;
}

// Migrations take Kysely<any> by Kysely's design: they run against the schema before it exists.
/* eslint-disable @typescript-eslint/no-explicit-any */
export const deploymentsMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('deployments')
      .addColumn('endpoint', 'varchar(128)', (c) => c.primaryKey().references('models.name'))
      .addColumn('routes', 'text', (c) => c.notNull())
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('deployment_history')
      .addColumn('endpoint', 'varchar(128)', (c) => c.notNull().references('models.name'))
      .addColumn('id', 'integer', (c) => c.notNull())
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'varchar(32)', (c) => c.notNull())
      .addColumn('before', 'text')
      .addColumn('after', 'text')
      .addColumn('reason', 'text')
      .addPrimaryKeyConstraint('deployment_history_pk', ['endpoint', 'id'])
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('deployment_history').execute();
    await db.schema.dropTable('deployments').execute();
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any */
