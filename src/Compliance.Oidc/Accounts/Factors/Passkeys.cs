using System.Formats.Cbor;
using Compliance.Data.Model;
using Compliance.Oidc.Interaction;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Oidc.Accounts.Factors;

/// <summary>A registered passkey, as the security page lists it.</summary>
internal sealed record PasskeySummary(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, bool Synced, Guid? Aaguid);

/// <summary>What a passkey ceremony proved: whose account, with which passkey, and the RFC 8176 method it stands for.</summary>
internal sealed record PasskeyProof(Guid AccountId, string Method);

/// <summary>
/// The WebAuthn ceremonies, through ASP.NET Core Identity's own passkey handler (attestation and assertion checks, sign
/// counts) and its store (the <c>account_passkeys</c> table). The ceremony state is sealed into the page for five minutes,
/// bound to its purpose and, for a registration or a step-up, to the account: no cookie and no node remembers it.
/// Only user-verified passkeys are accepted, so that one alone is two factors (possession and a PIN or biometric).
/// </summary>
internal sealed class Passkeys(
    IPasskeyHandler<Account> handler,
    UserManager<Account> users,
    ComplianceDbContext db,
    IDataProtectionProvider protection,
    TimeProvider time)
{
    public static readonly TimeSpan CeremonyLifetime = TimeSpan.FromMinutes(5);
    public const int MaxCredentialJsonLength = 64 * 1024;
    public const int MaxNameLength = 64;

    private readonly ITimeLimitedDataProtector _protector =
        protection.CreateProtector("Compliance.Oidc.Passkeys.Ceremony.v1").ToTimeLimitedDataProtector();

    /// <summary>Options for <c>navigator.credentials.create</c>, and the sealed state the answer must come back with.</summary>
    public async Task<(string OptionsJson, string State)> BeginRegistrationAsync(HttpContext context, Account account)
    {
        var pseudonym = account.UserName ?? "";
        var result = await handler.MakeCreationOptionsAsync(new PasskeyUserEntity { Id = account.Id.ToString("D"), Name = pseudonym, DisplayName = pseudonym }, context);
        return (result.CreationOptionsJson, Seal(new CeremonyState(Guid.NewGuid(), "register", account.Id, result.AttestationState)));
    }

    /// <summary>
    /// Checks a new credential against the sealed state, and stores it for the account. Null, with nothing stored, when
    /// the state is missing, expired or another account's, or the credential fails any check.
    /// </summary>
    public async Task<PasskeyProof?> CompleteRegistrationAsync(HttpContext context, Account account, string? credentialJson, string? state, string? name)
    {
        var ceremony = Open(state);
        if (ceremony is not { Purpose: "register" } || ceremony.AccountId != account.Id || !IsPlausible(credentialJson)
            || !await ConsumeAsync(ceremony, context.RequestAborted))
        {
            return null;
        }

        PasskeyAttestationResult result;
        try
        {
            result = await handler.PerformAttestationAsync(new PasskeyAttestationContext { HttpContext = context, CredentialJson = credentialJson!, AttestationState = ceremony.HandlerState });
        }
        catch (Exception e) when (e is PasskeyException or InvalidOperationException or FormatException or System.Text.Json.JsonException)
        {
            return null;
        }

        if (!result.Succeeded || !result.Passkey.IsUserVerified || result.UserEntity.Id != account.Id.ToString("D")
            || await db.Set<IdentityUserPasskey<Guid>>().AnyAsync(p => p.CredentialId == result.Passkey.CredentialId, context.RequestAborted))
        {
            return null;
        }

        result.Passkey.Name = CleanName(name) ?? DefaultName(result.Passkey);
        var added = await users.AddOrUpdatePasskeyAsync(account, result.Passkey);
        if (!added.Succeeded)
        {
            return null;
        }

        var aaguid = AaguidOf(result.Passkey.AttestationObject);
        await db.Set<IdentityUserPasskey<Guid>>().Where(p => p.CredentialId == result.Passkey.CredentialId)
            .ExecuteUpdateAsync(s => s.SetProperty(p => EF.Property<Guid?>(p, PasskeyConfiguration.Aaguid), aaguid), context.RequestAborted);
        return new PasskeyProof(account.Id, MethodOf(result.Passkey));
    }

    /// <summary>Options for <c>navigator.credentials.get</c>: any of the account's passkeys, or (no account) any discoverable one.</summary>
    public async Task<(string OptionsJson, string State)> BeginAssertionAsync(HttpContext context, Account? account)
    {
        var result = await handler.MakeRequestOptionsAsync(account, context);
        return (result.RequestOptionsJson, Seal(new CeremonyState(Guid.NewGuid(), "assert", account?.Id, result.AssertionState)));
    }

    /// <summary>
    /// Checks an assertion against the sealed state: a registered, user-verified passkey, signed for this origin and RP id,
    /// of the account the ceremony was for (when it was for one). Moves its sign count and last use. Null otherwise.
    /// </summary>
    public async Task<PasskeyProof?> CompleteAssertionAsync(HttpContext context, string? credentialJson, string? state)
    {
        var ceremony = Open(state);
        if (ceremony is not { Purpose: "assert" } || !IsPlausible(credentialJson) || !await ConsumeAsync(ceremony, context.RequestAborted))
        {
            return null;
        }

        PasskeyAssertionResult<Account> result;
        try
        {
            result = await handler.PerformAssertionAsync(new PasskeyAssertionContext { HttpContext = context, CredentialJson = credentialJson!, AssertionState = ceremony.HandlerState });
        }
        catch (Exception e) when (e is PasskeyException or InvalidOperationException or FormatException or System.Text.Json.JsonException)
        {
            return null;
        }

        if (!result.Succeeded || !result.Passkey.IsUserVerified || (ceremony.AccountId is { } expected && result.User.Id != expected))
        {
            return null;
        }

        await users.AddOrUpdatePasskeyAsync(result.User, result.Passkey);
        await db.Set<IdentityUserPasskey<Guid>>().Where(p => p.CredentialId == result.Passkey.CredentialId)
            .ExecuteUpdateAsync(s => s.SetProperty(p => EF.Property<DateTimeOffset?>(p, PasskeyConfiguration.LastUsedAt), time.GetUtcNow()), context.RequestAborted);
        return new PasskeyProof(result.User.Id, MethodOf(result.Passkey));
    }

    public Task<bool> AnyAsync(Guid accountId, CancellationToken cancellationToken) =>
        db.Set<IdentityUserPasskey<Guid>>().AnyAsync(p => p.UserId == accountId, cancellationToken);

    public async Task<IReadOnlyList<PasskeySummary>> ListAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var rows = await db.Set<IdentityUserPasskey<Guid>>().AsNoTracking().Where(p => p.UserId == accountId)
            .Select(p => new
            {
                p.CredentialId,
                p.Data.Name,
                p.Data.CreatedAt,
                p.Data.IsBackupEligible,
                LastUsedAt = EF.Property<DateTimeOffset?>(p, PasskeyConfiguration.LastUsedAt),
                Aaguid = EF.Property<Guid?>(p, PasskeyConfiguration.Aaguid),
            })
            .ToListAsync(cancellationToken);
        return rows.OrderBy(r => r.CreatedAt)
            .Select(r => new PasskeySummary(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(r.CredentialId), r.Name ?? "", r.CreatedAt, r.LastUsedAt, r.IsBackupEligible, r.Aaguid))
            .ToList();
    }

    /// <summary>Renames one of the account's passkeys; false when it has none with that id or the name is empty.</summary>
    public async Task<bool> RenameAsync(Guid accountId, string? id, string? name, CancellationToken cancellationToken)
    {
        var clean = CleanName(name);
        if (clean is null || Decode(id) is not { } credentialId)
        {
            return false;
        }

        var passkey = await db.Set<IdentityUserPasskey<Guid>>().FirstOrDefaultAsync(p => p.UserId == accountId && p.CredentialId == credentialId, cancellationToken);
        if (passkey is null)
        {
            return false;
        }

        passkey.Data.Name = clean;
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>Removes one of the account's passkeys; false when it has none with that id.</summary>
    public async Task<bool> RemoveAsync(Guid accountId, string? id, CancellationToken cancellationToken) =>
        Decode(id) is { } credentialId
        && await db.Set<IdentityUserPasskey<Guid>>().Where(p => p.UserId == accountId && p.CredentialId == credentialId).ExecuteDeleteAsync(cancellationToken) == 1;

    /// <summary>RFC 8176: <c>swk</c> for a passkey that may be synced to other devices, <c>hwk</c> for one bound to its device.</summary>
    internal static string MethodOf(UserPasskeyInfo passkey) => passkey.IsBackupEligible ? "swk" : "hwk";

    /// <summary>
    /// The authenticator model's AAGUID, from the attested credential data of the authenticator data (WebAuthn §6.5.1):
    /// the 16 bytes after the RP id hash (32), the flags (1) and the sign count (4). Null when absent or unreadable.
    /// </summary>
    internal static Guid? AaguidOf(byte[]? attestationObject)
    {
        if (attestationObject is null)
        {
            return null;
        }

        try
        {
            var reader = new CborReader(attestationObject, CborConformanceMode.Lax);
            var entries = reader.ReadStartMap() ?? int.MaxValue;
            for (var i = 0; i < entries && reader.PeekState() != CborReaderState.EndMap; i++)
            {
                if (reader.ReadTextString() != "authData")
                {
                    reader.SkipValue();
                    continue;
                }

                var authData = reader.ReadByteString();
                const int AttestedDataFlag = 0x40;
                return authData.Length >= 53 && (authData[32] & AttestedDataFlag) != 0 ? new Guid(authData.AsSpan(37, 16), bigEndian: true) : null;
            }
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or ArgumentException)
        {
            return null;
        }

        return null;
    }

    private static string DefaultName(UserPasskeyInfo passkey) =>
        passkey.IsBackupEligible ? "Passkey (synchronisée)" : "Passkey (cet appareil)";

    private static string? CleanName(string? name)
    {
        var clean = new string((name ?? "").Where(c => !char.IsControl(c)).ToArray()).Trim();
        return clean.Length is > 0 and <= MaxNameLength ? clean : null;
    }

    private static byte[]? Decode(string? id)
    {
        if (id is null || id.Length > 1400)
        {
            return null;
        }

        try
        {
            return Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(id);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool IsPlausible(string? credentialJson) => credentialJson is { Length: > 0 and <= MaxCredentialJsonLength };

    /// <summary>
    /// Uses a ceremony up, once on every node: its id goes into the used-assertion table, whose primary key turns a
    /// second use into a conflict. An assertion posted again with its state (a replay) fails here, even for
    /// authenticators that keep their sign count at zero.
    /// </summary>
    private async Task<bool> ConsumeAsync(CeremonyState ceremony, CancellationToken cancellationToken)
    {
        db.Add(new Grants.UsedAssertion
        {
            AssertionHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("passkey-ceremony\n" + ceremony.Id.ToString("N")))),
            ExpiresAt = time.GetUtcNow().Add(CeremonyLifetime),
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }

    private string Seal(CeremonyState state) => SealedJson.Seal(_protector, state, time.GetUtcNow().Add(CeremonyLifetime));

    private CeremonyState? Open(string? state) => SealedJson.Open<CeremonyState>(_protector, state, maxLength: 16_384, time);

    /// <summary>A ceremony in flight: what it is for, whose account (if one), and the handler's own state (the challenge).</summary>
    private sealed record CeremonyState(Guid Id, string Purpose, Guid? AccountId, string? HandlerState);
}

/// <summary>
/// Identity's passkey entity on <c>account_passkeys</c>: the credential id, the account, Identity's data as columns, and
/// two of ours: the authenticator's AAGUID and the last use.
/// </summary>
internal sealed class PasskeyConfiguration : IEntityTypeConfiguration<IdentityUserPasskey<Guid>>
{
    public const string Aaguid = "Aaguid";
    public const string LastUsedAt = "LastUsedAt";

    public void Configure(EntityTypeBuilder<IdentityUserPasskey<Guid>> builder)
    {
        builder.ToTable("account_passkeys");
        builder.HasKey(p => p.CredentialId);
        builder.Property(p => p.CredentialId).HasColumnName("credential_id").HasMaxLength(1023);
        builder.Property(p => p.UserId).HasColumnName("user_id");
        builder.HasIndex(p => p.UserId).HasDatabaseName("ix_account_passkeys_user_id");
        builder.Property<Guid?>(Aaguid).HasColumnName("aaguid");
        builder.Property<DateTimeOffset?>(LastUsedAt).HasColumnName("last_used_at");
        builder.OwnsOne(p => p.Data, data =>
        {
            data.Property(d => d.Name).HasColumnName("name").HasMaxLength(Passkeys.MaxNameLength);
            data.Property(d => d.PublicKey).HasColumnName("public_key");
            data.Property(d => d.CreatedAt).HasColumnName("created_at");
            data.Property(d => d.SignCount).HasColumnName("sign_count").HasConversion<long>();
            data.Property(d => d.Transports).HasColumnName("transports").HasMaxLength(256)
                .HasConversion(
                    v => v == null ? null : string.Join(',', v),
                    v => v == null ? null : v.Split(',', StringSplitOptions.RemoveEmptyEntries),
                    new ValueComparer<string[]?>((a, b) => (a ?? Array.Empty<string>()).SequenceEqual(b ?? Array.Empty<string>()), v => v == null ? 0 : string.Join(',', v).GetHashCode(StringComparison.Ordinal), v => v == null ? null : v.ToArray()));
            data.Property(d => d.IsUserVerified).HasColumnName("is_user_verified");
            data.Property(d => d.IsBackupEligible).HasColumnName("is_backup_eligible");
            data.Property(d => d.IsBackedUp).HasColumnName("is_backed_up");
            data.Property(d => d.AttestationObject).HasColumnName("attestation_object");
            data.Property(d => d.ClientDataJson).HasColumnName("client_data_json");
        });
        builder.Navigation(p => p.Data).IsRequired();
    }
}
