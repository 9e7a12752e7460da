using Compliance.Data.Model;
using Compliance.Keys;
using Compliance.Oidc.Accounts.Factors;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Compliance.Oidc.Tests.Accounts;

/// <summary>
/// Each TOTP code and each recovery code is accepted once, by whichever node sees it first: two nodes are two service providers (their own
/// caches and key rings) on one store, sharing its key-encryption key file, as two server processes would.
/// </summary>
public abstract class SecondFactorsTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly List<ServiceProvider> _nodes = [];
    private readonly MovableClock _clock = new(DateTimeOffset.FromUnixTimeSeconds(1_900_000_000));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Enrolment_IsConfirmedByAFirstCode_WhichIsThenUsedUp()
    {
        var node = Node();
        var account = Guid.CreateVersion7();
        var enrolment = (await WithFactors(node, f => f.BeginAsync(account, "lune-42", CancellationToken.None)))!;
        var code = CodeNow(enrolment);

        (await WithFactors(node, f => f.VerifyAsync(account, code, CancellationToken.None))).ShouldBe(TotpVerdict.NotEnrolled, "not confirmed yet");
        (await WithFactors(node, f => f.ConfirmAsync(account, "000000" == code ? "111111" : "000000", CancellationToken.None))).ShouldBe(TotpVerdict.Wrong);
        (await WithFactors(node, f => f.ConfirmAsync(account, code, CancellationToken.None))).ShouldBe(TotpVerdict.Accepted);
        (await WithFactors(node, f => f.IsEnrolledAsync(account, CancellationToken.None))).ShouldBeTrue();
        (await WithFactors(node, f => f.VerifyAsync(account, code, CancellationToken.None))).ShouldBe(TotpVerdict.Replayed, "the confirming code is used up");
        (await WithFactors(node, f => f.BeginAsync(account, "lune-42", CancellationToken.None))).ShouldBeNull("a confirmed authenticator is not replaced by a new enrolment");

        enrolment.OtpAuthUri.Scheme.ShouldBe("otpauth");
        enrolment.OtpAuthUri.Query.ShouldContain($"secret={enrolment.Key}");
    }

    [Fact]
    public async Task Code_AcceptedOnOneNode_IsRefusedOnAnother_AndTheNextStepsCodeStillWorks()
    {
        var (first, second) = (Node(), Node());
        var account = Guid.CreateVersion7();
        var enrolment = await EnrolAsync(first, account);
        _clock.Advance(TimeSpan.FromSeconds(Totp.StepSeconds));
        var code = CodeNow(enrolment);

        (await WithFactors(first, f => f.VerifyAsync(account, code, CancellationToken.None))).ShouldBe(TotpVerdict.Accepted);
        (await WithFactors(second, f => f.VerifyAsync(account, code, CancellationToken.None))).ShouldBe(TotpVerdict.Replayed);

        // The previous step's code is within the drift window, but older than the one accepted: refused too.
        var older = Totp.Compute(Secret(enrolment), Totp.StepAt(_clock.GetUtcNow()) - 1);
        (await WithFactors(second, f => f.VerifyAsync(account, older, CancellationToken.None))).ShouldBe(TotpVerdict.Replayed);

        _clock.Advance(TimeSpan.FromSeconds(Totp.StepSeconds));
        (await WithFactors(second, f => f.VerifyAsync(account, CodeNow(enrolment), CancellationToken.None))).ShouldBe(TotpVerdict.Accepted);
    }

    [Fact]
    public async Task SameCode_SentManyTimesAtOnceToTwoNodes_IsAcceptedExactlyOnce()
    {
        var nodes = new[] { Node(), Node() };
        var account = Guid.CreateVersion7();
        var enrolment = await EnrolAsync(nodes[0], account);
        _clock.Advance(TimeSpan.FromSeconds(Totp.StepSeconds));
        var code = CodeNow(enrolment);

        var verdicts = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            Task.Run(() => WithFactors(nodes[i % 2], f => f.VerifyAsync(account, code, CancellationToken.None)))));

        verdicts.Count(v => v == TotpVerdict.Accepted).ShouldBe(1);
        verdicts.Count(v => v == TotpVerdict.Replayed).ShouldBe(23);
    }

    [Fact]
    public async Task StoredKey_IsSealed_NeitherTheBase32NorTheBytesAreInTheRow()
    {
        var node = Node();
        var account = Guid.CreateVersion7();
        var enrolment = await EnrolAsync(node, account);

        await using var scope = node.CreateAsyncScope();
        var row = await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<TotpFactor>().AsNoTracking().SingleAsync(f => f.AccountId == account);
        var secret = Secret(enrolment);

        row.ProtectedSecret.ShouldNotContain(enrolment.Key);
        row.ProtectedSecret.ShouldNotContain(Convert.ToBase64String(secret));
        Convert.FromBase64String(row.ProtectedSecret).AsSpan().IndexOf(secret).ShouldBe(-1);
    }

    [Fact]
    public async Task NoAuthenticator_Verify_IsNotEnrolled()
    {
        (await WithFactors(Node(), f => f.VerifyAsync(Guid.CreateVersion7(), "123456", CancellationToken.None))).ShouldBe(TotpVerdict.NotEnrolled);
    }

    [Fact]
    public async Task RecoveryCodes_TenShownOnce_EachWorksOnce_OnAnyNode()
    {
        var (first, second) = (Node(), Node());
        var account = Guid.CreateVersion7();

        var codes = await WithRecovery(first, r => r.RegenerateAsync(account, CancellationToken.None));

        codes.Count.ShouldBe(10);
        codes.Distinct().Count().ShouldBe(10);
        codes.ShouldAllBe(c => System.Text.RegularExpressions.Regex.IsMatch(c, "^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$"));
        (await WithRecovery(first, r => r.RedeemAsync(account, codes[0], CancellationToken.None))).ShouldBeTrue();
        (await WithRecovery(second, r => r.RedeemAsync(account, codes[0], CancellationToken.None))).ShouldBeFalse("used once, on another node");
        (await WithRecovery(second, r => r.RedeemAsync(account, " " + codes[1].ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal) + " ", CancellationToken.None)))
            .ShouldBeTrue("case, spaces and the dash are forgiven");
        (await WithRecovery(second, r => r.RedeemAsync(Guid.CreateVersion7(), codes[2], CancellationToken.None))).ShouldBeFalse("another account's code");
        (await WithRecovery(first, r => r.RemainingAsync(account, CancellationToken.None))).ShouldBe(8);
    }

    [Fact]
    public async Task RecoveryCodes_NewSet_ReplacesTheOldOneEntirely()
    {
        var node = Node();
        var account = Guid.CreateVersion7();
        var old = await WithRecovery(node, r => r.RegenerateAsync(account, CancellationToken.None));

        var renewed = await WithRecovery(node, r => r.RegenerateAsync(account, CancellationToken.None));

        (await WithRecovery(node, r => r.RedeemAsync(account, old[3], CancellationToken.None))).ShouldBeFalse();
        (await WithRecovery(node, r => r.RedeemAsync(account, renewed[3], CancellationToken.None))).ShouldBeTrue();
        (await WithRecovery(node, r => r.RemainingAsync(account, CancellationToken.None))).ShouldBe(9);
    }

    [Fact]
    public async Task RecoveryCode_RedeemedManyTimesAtOnceOnTwoNodes_WorksExactlyOnce()
    {
        var nodes = new[] { Node(), Node() };
        var account = Guid.CreateVersion7();
        var code = (await WithRecovery(nodes[0], r => r.RegenerateAsync(account, CancellationToken.None)))[0];

        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            Task.Run(() => WithRecovery(nodes[i % 2], r => r.RedeemAsync(account, code, CancellationToken.None)))));

        results.Count(accepted => accepted).ShouldBe(1);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("AAAAA-AAAA")]
    [InlineData("00000-00000")] // look-alikes are not in the alphabet
    [InlineData("AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA")]
    [InlineData("AAAAA'--AAA")]
    public async Task RecoveryCode_Malformed_IsRefusedWithoutError(string? typed)
    {
        var node = Node();
        var account = Guid.CreateVersion7();
        await WithRecovery(node, r => r.RegenerateAsync(account, CancellationToken.None));

        (await WithRecovery(node, r => r.RedeemAsync(account, typed, CancellationToken.None))).ShouldBeFalse();
        (await WithRecovery(node, r => r.RemainingAsync(account, CancellationToken.None))).ShouldBe(10);
    }

    [Fact]
    public async Task RecoveryCodes_AreStoredAsKeyedHashes_NeverInClear()
    {
        var node = Node();
        var account = Guid.CreateVersion7();
        var codes = await WithRecovery(node, r => r.RegenerateAsync(account, CancellationToken.None));

        await using var scope = node.CreateAsyncScope();
        var hashes = await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<RecoveryCode>().AsNoTracking()
            .Where(c => c.AccountId == account).Select(c => c.CodeHash).ToListAsync();

        hashes.Count.ShouldBe(10);
        foreach (var code in codes)
        {
            var plain = code.Replace("-", "", StringComparison.Ordinal);
            hashes.ShouldNotContain(h => h.Contains(plain, StringComparison.OrdinalIgnoreCase));
            hashes.ShouldNotContain(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(plain))),
                "an unkeyed hash could be guessed offline from the database alone");
        }
    }

    private static async Task<T> WithRecovery<T>(ServiceProvider node, Func<RecoveryCodes, Task<T>> action)
    {
        await using var scope = node.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<RecoveryCodes>());
    }

    private async Task<TotpEnrolment> EnrolAsync(ServiceProvider node, Guid account)
    {
        var enrolment = (await WithFactors(node, f => f.BeginAsync(account, "lune-42", CancellationToken.None)))!;
        (await WithFactors(node, f => f.ConfirmAsync(account, CodeNow(enrolment), CancellationToken.None))).ShouldBe(TotpVerdict.Accepted);
        return enrolment;
    }

    private string CodeNow(TotpEnrolment enrolment) => Totp.Compute(Secret(enrolment), Totp.StepAt(_clock.GetUtcNow()));

    /// <summary>What the patient's app holds: the key decoded from the base32 text it was shown.</summary>
    private static byte[] Secret(TotpEnrolment enrolment)
    {
        var bits = string.Concat(enrolment.Key.Select(c => Convert.ToString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".IndexOf(c, StringComparison.Ordinal), 2).PadLeft(5, '0')));
        return Enumerable.Range(0, bits.Length / 8).Select(i => Convert.ToByte(bits.Substring(i * 8, 8), 2)).ToArray();
    }

    private static async Task<T> WithFactors<T>(ServiceProvider node, Func<TotpFactors, Task<T>> action)
    {
        await using var scope = node.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TotpFactors>());
    }

    private ServiceProvider Node()
    {
        // The key-encryption key of the class's stores (their default path), as every other test of those stores uses.
        var settings = new Dictionary<string, string?>(stores.Settings) { ["Keys:CreateKekIfMissing"] = "true" };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var node = StoreServices.Build(stores, s => s
            .AddComplianceKeys(configuration)
            .AddComplianceOidc(configuration)
            .Replace(ServiceDescriptor.Singleton<TimeProvider>(_clock)));
        _nodes.Add(node);
        return node;
    }

    private sealed class MovableClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}

public sealed class SecondFactorsTests_Sqlite(SqliteStores stores) : SecondFactorsTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class SecondFactorsTests_Postgres(PostgresStores stores) : SecondFactorsTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
