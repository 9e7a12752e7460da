using System.Globalization;
using Compliance.Oidc.Endpoints.Authorize;
using Compliance.Oidc.Interaction;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// What the patient pages that sit inside a flow share: the session of the request, where a posted form comes from
/// (an authorization request or a patient page to go back to), where to go next, and how a time is shown.
/// </summary>
internal static class PatientFlow
{
    public static async Task<Session?> SessionAsync(HttpContext context) =>
        Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);

    /// <summary>The authorization request (checked) or the patient page (a safe return path) a posted form carries.</summary>
    public static (string? Interaction, AuthorizationRequest? Request, string? Back) Continuation(IFormCollection? form, InteractionProtector interactions)
    {
        var interaction = form is null ? null : AccountEndpoints.Field(form, "interaction");
        var request = interactions.Unprotect(interaction);
        return (request is null ? null : interaction, request, form is null ? null : StepUpPage.SafeReturn(AccountEndpoints.Field(form, "return")));
    }

    /// <summary>Back to the authorization request, else to the page to return to, else to <paramref name="fallback"/>.</summary>
    public static IResult Next(string? interaction, string? back, string fallback) =>
        interaction is not null
            ? Results.Redirect($"{AuthorizeEndpointPaths.Resume}?interaction={Uri.EscapeDataString(interaction)}")
            : Results.Redirect(back ?? fallback);

    /// <summary>A time as the pages show it, in UTC to the minute.</summary>
    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
}
