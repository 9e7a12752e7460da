using Compliance.Consent.Checkpoints;
using Compliance.Consent.Integrity;
using Compliance.Consent.Partners;
using Compliance.Consent.Outbox;
using Compliance.Keys;
using Compliance.Keys.Attestation;
using Compliance.Oidc.Staff;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Consent;

/// <summary>
/// The ledger's public endpoints, for partners and auditors who keep their own copies: every attestation key ever
/// used, the signed checkpoints, and inclusion and consistency proofs. Nothing here names a subject or a purpose. The
/// full verification is for staff DPOs. The partners' own event feed (<c>/partner/v1/events</c>, authenticated) is
/// mapped here too.
/// </summary>
public static class LedgerEndpoints
{
    public const string Keys = "/ledger/keys";
    public const string Checkpoints = "/ledger/checkpoints";
    public const string InclusionProof = "/ledger/proofs/inclusion";
    public const string ConsistencyProof = "/ledger/proofs/consistency";
    public const string Verification = "/ledger/verification";

    /// <summary>The most checkpoints one page lists.</summary>
    public const int PageSize = 1000;

    public static IEndpointRouteBuilder MapComplianceConsent(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Keys, KeysAsync).WithName("LedgerKeys");
        routes.MapGet(Checkpoints, CheckpointsAsync).WithName("LedgerCheckpoints");
        routes.MapGet(InclusionProof, InclusionAsync).WithName("LedgerInclusionProof");
        routes.MapGet(ConsistencyProof, ConsistencyAsync).WithName("LedgerConsistencyProof");
        routes.MapPost(Verification, VerifyAsync).WithName("LedgerVerification").RequireAuthorization(StaffPolicies.Dpo).DisableAntiforgery();
        routes.MapPartnerConsentApi();
        routes.MapPartnerEvents();
        return routes;
    }

    private static async Task<IResult> KeysAsync(IAttestationKeys attestation, HttpContext context)
    {
        context.Response.Headers.CacheControl = "public, max-age=300";
        return Results.Text(AttestationVerifier.KeySetJson(await attestation.AllAsync(context.RequestAborted)), "application/json");
    }

    private static async Task<IResult> CheckpointsAsync(ILedgerCheckpoints checkpoints, HttpContext context, string? after)
    {
        if (!TryParseSize(after ?? "0", allowZero: true, out var afterSize))
        {
            return Problem("bad_size", "after must be a tree size (a whole number from 0).");
        }

        var page = await checkpoints.ListAsync(afterSize, PageSize, context.RequestAborted);
        return TypedResults.Json(new
        {
            checkpoints = page.Select(c => new { tree_size = c.TreeSize, root_hash = Base64UrlEncoder.Encode(c.RootHash), key_id = c.KeyId, jws = c.Jws }),
            next = page.Count == PageSize ? $"{Checkpoints}?after={page[^1].TreeSize}" : null,
        });
    }

    private static async Task<IResult> InclusionAsync(ILedgerCheckpoints checkpoints, HttpContext context, string? leaf_index, string? tree_size)
    {
        if (!TryParseSize(leaf_index, allowZero: true, out var index) || !TryParseSize(tree_size, allowZero: false, out var size))
        {
            return Problem("bad_size", "leaf_index and tree_size must be whole numbers, tree_size at least 1.");
        }

        var proof = await checkpoints.InclusionProofAsync(index, size, context.RequestAborted);
        return proof is null
            ? Problem("out_of_range", "No such leaf in a tree of that size.", StatusCodes.Status404NotFound)
            : TypedResults.Json(new { leaf_index = index, tree_size = size, hashes = proof.Select(Base64UrlEncoder.Encode) });
    }

    private static async Task<IResult> ConsistencyAsync(ILedgerCheckpoints checkpoints, HttpContext context, string? first, string? second)
    {
        if (!TryParseSize(first, allowZero: false, out var from) || !TryParseSize(second, allowZero: false, out var to))
        {
            return Problem("bad_size", "first and second must be tree sizes (whole numbers from 1).");
        }

        var proof = await checkpoints.ConsistencyProofAsync(from, to, context.RequestAborted);
        return proof is null
            ? Problem("out_of_range", "No consistency proof between those sizes: first must not exceed second, nor second the log.", StatusCodes.Status404NotFound)
            : TypedResults.Json(new { first = from, second = to, hashes = proof.Select(Base64UrlEncoder.Encode) });
    }

    private static async Task<IResult> VerifyAsync(ILedgerIntegrity integrity, HttpContext context)
    {
        var result = await integrity.VerifyAsync(context.RequestAborted);
        return TypedResults.Json(new
        {
            intact = result.Intact,
            leaves = result.Leaves,
            redacted = result.Redacted,
            root_hash = Base64UrlEncoder.Encode(result.Root),
            checkpoints_checked = result.CheckpointsChecked,
            findings = result.Findings.Select(f => new { kind = f.Kind.ToString(), leaf_index = f.Index, event_id = f.EventId, detail = f.Detail }),
        });
    }

    private static bool TryParseSize(string? text, bool allowZero, out long value) =>
        long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value)
        && (allowZero ? value >= 0 : value > 0);

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem(string code, string detail, int status = StatusCodes.Status400BadRequest) =>
        TypedResults.Problem(detail: detail, statusCode: status, extensions: new Dictionary<string, object?> { ["code"] = code });
}
