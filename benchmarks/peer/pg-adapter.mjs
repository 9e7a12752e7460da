// A durable oidc-provider adapter on PostgreSQL, written for the benchmark's second peer: the same provider as
// server.mjs, but every model it persists (sessions, interactions, grants, authorization codes, refresh tokens, ...)
// is a row in one table, written with the server's durable defaults (fsync and synchronous_commit on), so that the
// comparison with the Compliance service is also made at equal durability.
//
// It implements oidc-provider's adapter contract (upsert, find, findByUid, findByUserCode, consume, destroy,
// revokeByGrantId), one statement per call on a connection pool, as a production adapter would. A code exchange
// consumes the code with one UPDATE, and a refresh consumes the old token and inserts the new one: each is its own
// autocommitted statement (oidc-provider calls them separately).
import pg from 'pg';

const TABLE = 'oidc_payloads';

export async function createPostgresAdapter(connectionString, { poolSize = 32 } = {}) {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
    model text NOT NULL,
    id text NOT NULL,
    payload jsonb NOT NULL,
    grant_id text,
    user_code text,
    uid text,
    expires_at timestamptz,
    consumed_at timestamptz,
    PRIMARY KEY (model, id))`);
  await pool.query(`CREATE INDEX IF NOT EXISTS ${TABLE}_grant ON ${TABLE} (grant_id)`);
  await pool.query(`CREATE INDEX IF NOT EXISTS ${TABLE}_uid ON ${TABLE} (model, uid)`);
  await pool.query(`CREATE INDEX IF NOT EXISTS ${TABLE}_user_code ON ${TABLE} (model, user_code)`);

  const live = `(expires_at IS NULL OR expires_at > now())`;
  const toPayload = (row) => {
    if (!row) return undefined;
    return row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
  };

  class PostgresAdapter {
    constructor(model) { this.model = model; }

    async upsert(id, payload, expiresIn) {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      await pool.query(
        `INSERT INTO ${TABLE} (model, id, payload, grant_id, user_code, uid, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
           user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
        [this.model, id, payload, payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresAt]);
    }

    async find(id) {
      const { rows } = await pool.query(`SELECT payload, consumed_at FROM ${TABLE} WHERE model = $1 AND id = $2 AND ${live}`, [this.model, id]);
      return toPayload(rows[0]);
    }

    async findByUid(uid) {
      const { rows } = await pool.query(`SELECT payload, consumed_at FROM ${TABLE} WHERE model = $1 AND uid = $2 AND ${live}`, [this.model, uid]);
      return toPayload(rows[0]);
    }

    async findByUserCode(userCode) {
      const { rows } = await pool.query(`SELECT payload, consumed_at FROM ${TABLE} WHERE model = $1 AND user_code = $2 AND ${live}`, [this.model, userCode]);
      return toPayload(rows[0]);
    }

    async consume(id) {
      await pool.query(`UPDATE ${TABLE} SET consumed_at = now() WHERE model = $1 AND id = $2`, [this.model, id]);
    }

    async destroy(id) {
      await pool.query(`DELETE FROM ${TABLE} WHERE model = $1 AND id = $2`, [this.model, id]);
    }

    async revokeByGrantId(grantId) {
      await pool.query(`DELETE FROM ${TABLE} WHERE grant_id = $1`, [grantId]);
    }
  }

  return { Adapter: PostgresAdapter, end: () => pool.end() };
}
