using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Compliance.Data.Storage;

namespace Compliance.Testing;

/// <summary>An <c>audit_events</c> row as a DPO reads it with SQL.</summary>
public sealed record AuditRow(long Id, int EventId, string Name, string Actor, string? SubjectId, string? Details)
{
    /// <summary>Every text of the row, for scans for secrets and free text.</summary>
    public string AllText => string.Join('\n', Name, Actor, SubjectId ?? "", Details ?? "");

    /// <summary>
    /// The details are a flat JSON object whose values are ids, enumerated words, numbers, booleans or lists of them:
    /// no spaces, so no sentence, name or address slipped in.
    /// </summary>
    public void ShouldHoldOnlyIdsAndEnumeratedValues()
    {
        if (Details is null)
        {
            return;
        }

        using var document = JsonDocument.Parse(Details);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException($"audit details are not a JSON object: {Details}");
        }

        foreach (var property in document.RootElement.EnumerateObject())
        {
            var values = property.Value.ValueKind == JsonValueKind.Array ? [.. property.Value.EnumerateArray()] : new[] { property.Value };
            foreach (var value in values)
            {
                if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array
                    || (value.ValueKind == JsonValueKind.String && value.GetString()!.Any(char.IsWhiteSpace)))
                {
                    throw new InvalidOperationException($"audit detail '{property.Name}' is not an id or an enumerated value: {value}");
                }
            }
        }
    }
}

/// <summary>Reads the audit trail of a compliance store.</summary>
public static class AuditRows
{
    /// <summary>The rows of one event id, oldest first, optionally only those whose details mention <paramref name="detailsContaining"/>.</summary>
    public static async Task<List<AuditRow>> ReadAsync(StoreConnection compliance, int eventId, string? detailsContaining = null)
    {
        await using var connection = StoreSql.Connect(compliance);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, event_id, name, actor, subject_id, details FROM audit_events WHERE event_id = @event ORDER BY id";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@event";
        parameter.Value = eventId;
        command.Parameters.Add(parameter);
        var rows = new List<AuditRow>();
        await using DbDataReader reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new AuditRow(
                Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture),
                Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture),
                reader.GetString(2),
                reader.GetString(3),
                reader.IsDBNull(4) ? null : Convert.ToString(reader.GetValue(4), CultureInfo.InvariantCulture),
                reader.IsDBNull(5) ? null : reader.GetString(5));
            if (detailsContaining is null || (row.Details?.Contains(detailsContaining, StringComparison.Ordinal) ?? false))
            {
                rows.Add(row);
            }
        }

        return rows;
    }
}
