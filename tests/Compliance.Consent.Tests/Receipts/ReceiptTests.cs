using System.Text.Json;
using System.Text.Json.Nodes;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Ledger;
using Compliance.Consent.Receipts;
using Compliance.Keys;
using Compliance.Keys.Attestation;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Consent.Tests.Receipts;

/// <summary>
/// A patient's receipt verifies offline with only the published attestation keys, still does after the key that
/// signed its checkpoint is rotated out, and stops verifying when the record, the proof or the keys are not the ones.
/// </summary>
public abstract class ReceiptTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly LedgerNodes _nodes = new(stores);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task Receipt_OfACompromisedKeysCheckpoint_IsRefused()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "receipt-b");
        var subject = Guid.CreateVersion7();
        var given = (await LedgerNodes.AppendAsync(node, Draft(subject, partner, ConsentState.Given))).Single();
        var receipt = (await ReceiptAsync(node, subject, given.EventId))!;
        var kid = ReceiptVerifier.Verify(receipt, await KeysAsync(node)).KeyId!;

        var keys = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IAttestationKeys>().AllAsync(CancellationToken.None));
        await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IAttestationKeys>().MarkCompromisedAsync(kid, keys.Single(k => k.KeyId == kid).ValidFrom, CancellationToken.None));

        var check = ReceiptVerifier.Verify(receipt, await KeysAsync(node));
        check.Valid.ShouldBeFalse();
        check.Refusal!.ShouldContain("checkpoint");
    }

    [Theory]
    [InlineData("record")]
    [InlineData("salt")]
    [InlineData("proof")]
    [InlineData("index")]
    [InlineData("checkpoint")]
    public async Task Receipt_Altered_IsRefused(string part)
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "receipt-c");
        var subject = Guid.CreateVersion7();
        await LedgerNodes.AppendAsync(node, Draft(Guid.CreateVersion7(), partner, ConsentState.Given));
        var given = (await LedgerNodes.AppendAsync(node, Draft(subject, partner, ConsentState.Given))).Single();
        await LedgerNodes.AppendAsync(node, Draft(Guid.CreateVersion7(), partner, ConsentState.Refused));
        var receipt = JsonNode.Parse((await ReceiptAsync(node, subject, given.EventId))!)!;

        switch (part)
        {
            case "record":
                var record = Base64UrlEncoder.DecodeBytes(receipt["record"]!.GetValue<string>());
                var text = System.Text.Encoding.UTF8.GetString(record).Replace("dpv:ConsentGiven", "dpv:ConsentRefused", StringComparison.Ordinal);
                receipt["record"] = Base64UrlEncoder.Encode(System.Text.Encoding.UTF8.GetBytes(text));
                break;
            case "salt":
                receipt["salt"] = Base64UrlEncoder.Encode(new byte[32]);
                break;
            case "proof":
                var hashes = receipt["inclusion_proof"]!["hashes"]!.AsArray();
                hashes[0] = Base64UrlEncoder.Encode(new byte[32]);
                break;
            case "index":
                receipt["leaf"]!["index"] = receipt["leaf"]!["index"]!.GetValue<long>() + 1;
                break;
            case "checkpoint":
                var jws = receipt["checkpoint"]!.GetValue<string>().Split('.');
                receipt["checkpoint"] = $"{jws[0]}.{Base64UrlEncoder.Encode("{\"tree_size\":1}")}.{jws[2]}";
                break;
        }

        var check = ReceiptVerifier.Verify(JsonSerializer.SerializeToUtf8Bytes(receipt), await KeysAsync(node));
        check.Valid.ShouldBeFalse(part);
        check.Refusal.ShouldNotBeNullOrWhiteSpace();
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"receipt_version\":\"compliance.consent-receipt/1\"}")]
    [InlineData("{\"receipt_version\":\"compliance.consent-receipt/1\",\"record\":\"%%%\",\"salt\":\"\",\"leaf\":{},\"inclusion_proof\":{\"hashes\":[]},\"checkpoint\":\"a.b.c\"}")]
    public async Task Receipt_Hostile_IsRefusedWithoutAnException(string text)
    {
        var node = _nodes.Node();
        await LedgerNodes.PartnerAsync(node, "receipt-d");

        var check = ReceiptVerifier.Verify(System.Text.Encoding.UTF8.GetBytes(text), await KeysAsync(node));

        check.Valid.ShouldBeFalse();
    }

    [Fact]
    public async Task Receipt_OfAnotherPatientsEvent_IsNotGiven()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "receipt-e");
        var theirs = (await LedgerNodes.AppendAsync(node, Draft(Guid.CreateVersion7(), partner, ConsentState.Given))).Single();

        (await ReceiptAsync(node, Guid.CreateVersion7(), theirs.EventId)).ShouldBeNull();
        (await ReceiptAsync(node, Guid.CreateVersion7(), Guid.CreateVersion7())).ShouldBeNull();
    }

    internal static Task<byte[]?> ReceiptAsync(IServiceProvider node, Guid subject, Guid eventId) =>
        LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentReceipts>().ForSubjectAsync(subject, eventId, CancellationToken.None));

    internal static Task<string> KeysAsync(IServiceProvider node) =>
        LedgerNodes.InScopeAsync(node, async s => AttestationVerifier.KeySetJson(await s.GetRequiredService<IAttestationKeys>().AllAsync(CancellationToken.None)));

    internal static ConsentEventDraft Draft(Guid subject, string partner, ConsentState state) =>
        new(subject, partner, "research", state, "2025-09", "en", ConsentMethods.ConsentScreen, "data-subject", DateTimeOffset.UtcNow);
}

/// <summary>
/// The rotation case on stores of its own: its clock runs a minute ahead (a key younger than 10 s is not rotated), and
/// the keys it makes must not be met by the other tests' real clock.
/// </summary>
public abstract class ReceiptRotationTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly LedgerNodes _nodes = new(stores);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task Receipt_VerifiesOffline_AndStillDoesAfterTheAttestationKeyIsRotated()
    {
        var clock = new MovableClock(DateTimeOffset.UtcNow);
        var node = _nodes.Node(clock: clock);
        var partner = await LedgerNodes.PartnerAsync(node, "receipt-a");
        var subject = Guid.CreateVersion7();
        var given = (await LedgerNodes.AppendAsync(node, ReceiptTests<TStores>.Draft(subject, partner, ConsentState.Given))).Single();

        var receipt = await ReceiptTests<TStores>.ReceiptAsync(node, subject, given.EventId);

        receipt.ShouldNotBeNull();
        var check = ReceiptVerifier.Verify(receipt, await ReceiptTests<TStores>.KeysAsync(node));
        check.Refusal.ShouldBeNull();
        check.Valid.ShouldBeTrue();
        check.Record!.RecordId.ShouldBe(given.EventId);
        check.Record.StateName.ShouldBe("Given");
        var signedBy = check.KeyId;

        // Rotated out, a minute later (a key younger than 10 s is kept: two nodes rotating at once make one new key):
        // the key that signed is retired, more events come, a new checkpoint is signed by the new key.
        clock.Advance(TimeSpan.FromMinutes(1));
        await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IAttestationKeys>().RotateAsync(CancellationToken.None));
        await LedgerNodes.AppendAsync(node, ReceiptTests<TStores>.Draft(Guid.CreateVersion7(), partner, ConsentState.Given));
        var later = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<ILedgerCheckpoints>().SignAsync(CancellationToken.None));
        later!.KeyId.ShouldNotBe(signedBy);

        var afterRotation = ReceiptVerifier.Verify(receipt, await ReceiptTests<TStores>.KeysAsync(node));
        afterRotation.Valid.ShouldBeTrue(afterRotation.Refusal);
        afterRotation.KeyId.ShouldBe(signedBy);
        var json = JsonNode.Parse(await ReceiptTests<TStores>.KeysAsync(node))!["keys"]!.AsArray();
        json.Select(k => k!["kid"]!.GetValue<string>()).ShouldContain(signedBy!);
        json.ShouldContain(k => k!["kid"]!.GetValue<string>() == signedBy && k["retired_at"] != null);
    }

    private sealed class MovableClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

}

public sealed class ReceiptRotationTests_Sqlite(SqliteStores stores) : ReceiptRotationTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ReceiptRotationTests_Postgres(PostgresStores stores) : ReceiptRotationTests<PostgresStores>(stores), IClassFixture<PostgresStores>;

public sealed class ReceiptTests_Sqlite(SqliteStores stores) : ReceiptTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ReceiptTests_Postgres(PostgresStores stores) : ReceiptTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
