using Compliance.Consent.Outbox;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Compliance.Consent.Ledger;

/// <summary>
/// The append path on PostgreSQL, in two round trips whatever the batch size: the lock and the head in one, then one
/// batch of five array inserts (<c>unnest</c>), the current state as an upsert, the partners' outbox rows last. EF's change tracker cost more CPU per
/// event than everything else of an append together.
/// </summary>
internal static class PostgresLedgerRows
{
    public static async Task<(long Size, long Published)> LockAndReadHeadAsync(ComplianceDbContext db)
    {
        await using var command = Command(db, $"""
            SELECT pg_advisory_xact_lock({LedgerAppender.AdvisoryLockKey});
            SELECT COALESCE((SELECT max(leaf_index) FROM consent_leaves), -1) + 1, COALESCE((SELECT max(tree_size) FROM consent_checkpoints), 0)
            """);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public static async Task WriteAsync(ComplianceDbContext db, List<LedgerRows> rows)
    {
        // One row per subject, partner and purpose in the upsert (a statement may not touch a row twice): the last event wins.
        var states = rows.GroupBy(r => (r.Event.Draft.SubjectId, r.Event.Draft.ClientId, r.Event.Draft.PurposeId)).Select(g => g.Last()).ToList();
        await using var command = Command(db, """
            INSERT INTO consent_leaves (leaf_index, event_id, appended_at, payload_commitment, leaf_hash, seal)
            SELECT * FROM unnest(@index, @event, @appended, @commitment, @leaf, @seal);
            INSERT INTO consent_payloads (event_id, payload, salt) SELECT * FROM unnest(@event, @payload, @salt);
            INSERT INTO consent_subject_events (event_id, subject_id, client_id, purpose_id, state, notice_version, occurred_at, leaf_index)
            SELECT * FROM unnest(@event, @subject, @client, @purpose, @state, @notice, @occurred, @index);
            INSERT INTO consent_states AS s (subject_id, client_id, purpose_id, state, event_id, notice_version, occurred_at, expires_at)
            SELECT * FROM unnest(@s_subject, @s_client, @s_purpose, @s_state, @s_event, @s_notice, @s_occurred, @s_expires)
            ON CONFLICT (subject_id, client_id, purpose_id) DO UPDATE SET state = EXCLUDED.state, event_id = EXCLUDED.event_id,
                notice_version = COALESCE(EXCLUDED.notice_version, s.notice_version), occurred_at = EXCLUDED.occurred_at, expires_at = EXCLUDED.expires_at;
            INSERT INTO consent_outbox (event_id, client_id, event_type, subject, purpose_id, leaf_index, occurred_at, created_at, due_at, give_up_at, attempts, enqueued_until)
            SELECT o.e, o.c, o.t, o.s, o.p, o.i, o.oc, o.cr, o.d, o.g, 0, o.q
            FROM unnest(@o_event, @o_client, @o_type, @o_subject, @o_purpose, @o_index, @o_occurred, @o_created, @o_due, @o_give_up, @o_enqueued)
                AS o(e, c, t, s, p, i, oc, cr, d, g, q);
            """);
        Add(command, "index", NpgsqlDbType.Bigint, rows.Select(r => r.Index));
        Add(command, "event", NpgsqlDbType.Uuid, rows.Select(r => r.Event.EventId));
        Add(command, "appended", NpgsqlDbType.TimestampTz, rows.Select(r => r.AppendedAt));
        Add(command, "commitment", NpgsqlDbType.Bytea, rows.Select(r => r.Commitment));
        Add(command, "leaf", NpgsqlDbType.Bytea, rows.Select(r => r.LeafHash));
        Add(command, "seal", NpgsqlDbType.Bytea, rows.Select(r => r.Seal));
        Add(command, "payload", NpgsqlDbType.Bytea, rows.Select(r => r.Event.Payload));
        Add(command, "salt", NpgsqlDbType.Bytea, rows.Select(r => r.Salt));
        Add(command, "subject", NpgsqlDbType.Uuid, rows.Select(r => r.Event.Draft.SubjectId));
        Add(command, "client", NpgsqlDbType.Varchar, rows.Select(r => r.Event.Draft.ClientId));
        Add(command, "purpose", NpgsqlDbType.Varchar, rows.Select(r => r.Event.Draft.PurposeId));
        Add(command, "state", NpgsqlDbType.Varchar, rows.Select(r => ConsentStates.Name(r.Event.Draft.State)));
        Add(command, "notice", NpgsqlDbType.Varchar, rows.Select(r => r.Event.Draft.NoticeVersion));
        Add(command, "occurred", NpgsqlDbType.TimestampTz, rows.Select(r => r.Event.Draft.OccurredAt.ToUniversalTime()));
        Add(command, "s_subject", NpgsqlDbType.Uuid, states.Select(r => r.Event.Draft.SubjectId));
        Add(command, "s_client", NpgsqlDbType.Varchar, states.Select(r => r.Event.Draft.ClientId));
        Add(command, "s_purpose", NpgsqlDbType.Varchar, states.Select(r => r.Event.Draft.PurposeId));
        Add(command, "s_state", NpgsqlDbType.Varchar, states.Select(r => ConsentStates.Name(r.Event.Draft.State)));
        Add(command, "s_event", NpgsqlDbType.Uuid, states.Select(r => r.Event.EventId));
        Add(command, "s_notice", NpgsqlDbType.Varchar, states.Select(r => r.Event.Draft.NoticeVersion));
        Add(command, "s_occurred", NpgsqlDbType.TimestampTz, states.Select(r => r.Event.Draft.OccurredAt.ToUniversalTime()));
        Add(command, "s_expires", NpgsqlDbType.TimestampTz, states.Select(r => r.Event.ExpiresAt?.ToUniversalTime()));
        var outbox = OutboxEntries.Rows(rows);
        Add(command, "o_event", NpgsqlDbType.Uuid, outbox.Select(o => o.EventId));
        Add(command, "o_client", NpgsqlDbType.Varchar, outbox.Select(o => o.ClientId));
        Add(command, "o_type", NpgsqlDbType.Varchar, outbox.Select(o => o.EventType));
        Add(command, "o_subject", NpgsqlDbType.Varchar, outbox.Select(o => o.Subject));
        Add(command, "o_purpose", NpgsqlDbType.Varchar, outbox.Select(o => o.PurposeId));
        Add(command, "o_index", NpgsqlDbType.Bigint, outbox.Select(o => o.LeafIndex));
        Add(command, "o_occurred", NpgsqlDbType.TimestampTz, outbox.Select(o => o.OccurredAt));
        Add(command, "o_created", NpgsqlDbType.TimestampTz, outbox.Select(o => o.CreatedAt));
        Add(command, "o_due", NpgsqlDbType.TimestampTz, outbox.Select(o => o.DueAt));
        Add(command, "o_give_up", NpgsqlDbType.TimestampTz, outbox.Select(o => o.GiveUpAt));
        Add(command, "o_enqueued", NpgsqlDbType.TimestampTz, outbox.Select(o => o.EnqueuedUntil));
        await command.ExecuteNonQueryAsync();
        if (rows.Where(r => r.Event.Claim is not null).ToList() is { Count: > 0 } claimed)
        {
            // A duplicate key fails the transaction: the request was already recorded, and nothing of this one is.
            await using var claims = Command(db, """
                INSERT INTO consent_partner_requests (client_id, idempotency_key, request_sha256, event_id, created_at)
                SELECT * FROM unnest(@client, @key, @hash, @event, @created)
                """);
            Add(claims, "client", NpgsqlDbType.Varchar, claimed.Select(r => r.Event.Claim!.ClientId));
            Add(claims, "key", NpgsqlDbType.Varchar, claimed.Select(r => r.Event.Claim!.Key));
            Add(claims, "hash", NpgsqlDbType.Bytea, claimed.Select(r => r.Event.Claim!.RequestHash));
            Add(claims, "event", NpgsqlDbType.Uuid, claimed.Select(r => r.Event.EventId));
            Add(claims, "created", NpgsqlDbType.TimestampTz, claimed.Select(r => r.AppendedAt));
            await claims.ExecuteNonQueryAsync();
        }
    }

    private static NpgsqlCommand Command(ComplianceDbContext db, string sql) => new(sql, (NpgsqlConnection)db.Database.GetDbConnection(),
        (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction());

    private static void Add<T>(NpgsqlCommand command, string name, NpgsqlDbType type, IEnumerable<T> values) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | type) { Value = values.ToArray() });
}
