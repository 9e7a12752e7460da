using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Compliance.Oidc.Clients;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Cli.Commands;

/// <summary>
/// <c>compliance clients add|update|rotate-secret|list|show|remove</c>: the registry of partner platforms (OpenID
/// clients). Each change is an audit row naming the operator (<c>--operator</c> or the OS user).
/// </summary>
internal static class ClientsCommand
{
    public static Command Create()
    {
        var clients = new Command("clients", "Register, update, list, show and remove OpenID clients (partner platforms), and rotate their secrets.");
        clients.Subcommands.Add(Add());
        clients.Subcommands.Add(Update());
        clients.Subcommands.Add(RotateSecret());
        clients.Subcommands.Add(List());
        clients.Subcommands.Add(Show());
        clients.Subcommands.Add(Remove());
        return clients;
    }

    private static Command Add()
    {
        var id = new Option<string>("--id") { Description = "client_id.", Required = true };
        var name = new Option<string>("--name") { Description = "Display name shown on the consent screen.", Required = true };
        var type = new Option<string>("--type") { Description = "confidential or public.", DefaultValueFactory = _ => ClientTypes.Confidential };
        type.AcceptOnlyFromAmong(ClientTypes.Confidential, ClientTypes.Public);
        var auth = new Option<string>("--auth") { Description = "client_secret_basic, private_key_jwt or none.", DefaultValueFactory = _ => ClientAuthMethods.SecretBasic };
        auth.AcceptOnlyFromAmong(ClientAuthMethods.SecretBasic, ClientAuthMethods.PrivateKeyJwt, ClientAuthMethods.None);
        var redirect = new Option<string[]>("--redirect-uri")
        {
            Description = "Exact redirect URI: https, http on loopback, or for a public native app a private-use scheme such as com.example.app:/callback. Repeatable.",
        };
        var postLogout = new Option<string[]>("--post-logout-redirect-uri") { Description = "Exact post-logout redirect URI. Repeatable." };
        var scope = new Option<string[]>("--scope")
        {
            Description = "Allowed scope: openid, offline_access, or a scope of a purpose in purposes.yaml (any API scope only for a client whose only grant is client_credentials). Repeatable. "
                + "Default: openid offline_access.",
        };
        var grant = new Option<string[]>("--grant") { Description = "Allowed grant type. Repeatable. Default: authorization_code refresh_token." };
        var jwks = new Option<FileInfo?>("--jwks") { Description = "A file holding the client's public JWKS (private_key_jwt)." };
        var jwksUri = new Option<string?>("--jwks-uri") { Description = "The client's JWKS URL (private_key_jwt)." };
        var sector = new Option<string?>("--sector-identifier-uri") { Description = "A JSON array of the redirect URIs, fetched and checked; its host is the pairwise sector." };
        var sharedSector = new Option<bool>("--shared-sector")
        {
            Description = "Allow a pairwise sector that other clients already have: they are one controller and will see the same identifier for a patient.",
        };
        var backchannelLogout = new Option<string?>("--backchannel-logout-uri") { Description = "Where to send back-channel logout tokens (https)." };
        var alg = new Option<string>("--id-token-alg") { Description = "ES256 or RS256.", DefaultValueFactory = _ => "ES256" };
        var accessLifetime = new Option<int>("--access-token-lifetime") { Description = "Seconds (30 to 3600).", DefaultValueFactory = _ => 300 };
        var idLifetime = new Option<int>("--id-token-lifetime") { Description = "Seconds (30 to 3600).", DefaultValueFactory = _ => 300 };
        var refreshSliding = new Option<int>("--refresh-sliding-lifetime") { Description = "Seconds a refresh token stays valid unused (at least 60).", DefaultValueFactory = _ => 86_400 };
        var refreshAbsolute = new Option<int>("--refresh-absolute-lifetime") { Description = "Seconds a refresh family lives at most (up to one year).", DefaultValueFactory = _ => 2_592_000 };
        var requirePar = new Option<bool>("--require-par") { Description = "Refuse authorization requests not pushed first (RFC 9126)." };
        var noConsent = new Option<bool>("--no-consent") { Description = "Skip the consent screen (first-party clients only)." };
        var minAcr = new Option<string?>("--min-acr") { Description = "eidas1, eidas2 or eidas3." };
        var controllerName = new Option<string?>("--controller-name")
        {
            Description = "The partner's name as controller of what it receives, shown on its consent screen (1 to 200 printable characters). "
                + "Required, with --dpo-contact and --notice-url, for a client that may request a scope resting on consent.",
        };
        var dpoContact = new Option<string?>("--dpo-contact") { Description = "The partner's DPO: a mailto: address or an https URL (at most 320 characters)." };
        var noticeUrl = new Option<string?>("--notice-url") { Description = "The partner's privacy notice: an https URL (at most 2000 characters)." };
        var kind = new Option<string>("--kind")
        {
            Description = "partner (the default) or payer: a payer or insurer is never granted a care or special-category purpose. Fixed at registration.",
            DefaultValueFactory = _ => ClientKinds.Partner,
        };
        var webhookUrl = new Option<string?>("--webhook-url") { Description = WebhookUrlHelp };
        var json = new Option<bool>("--json") { Description = "Print the client (and secret) as JSON." };
        var command = new Command("add", "Register a client. For client_secret_basic the secret is printed once and stored only as a hash.")
        {
            id, name, type, auth, redirect, postLogout, scope, grant, jwks, jwksUri, sector, sharedSector, backchannelLogout, alg, accessLifetime, idLifetime,
            refreshSliding, refreshAbsolute, requirePar, noConsent, minAcr, controllerName, dpoContact, noticeUrl, kind, webhookUrl, json,
        };
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            var request = new ClientRequest(
                parse.GetValue(id)!,
                parse.GetValue(name)!,
                parse.GetValue(type)!,
                parse.GetValue(auth)!,
                parse.GetValue(redirect) ?? [],
                parse.GetValue(postLogout) ?? [],
                Words(parse.GetValue(scope), "openid offline_access"),
                Words(parse.GetValue(grant), "authorization_code refresh_token"),
                parse.GetValue(jwks) is { } file ? await File.ReadAllTextAsync(file.FullName, cancellationToken) : null,
                parse.GetValue(jwksUri),
                parse.GetValue(sector),
                parse.GetValue(alg)!,
                parse.GetValue(accessLifetime),
                parse.GetValue(refreshSliding),
                parse.GetValue(refreshAbsolute),
                parse.GetValue(idLifetime),
                RequireConsent: !parse.GetValue(noConsent),
                RequirePushedAuthorizationRequests: parse.GetValue(requirePar),
                MinimumAcr: parse.GetValue(minAcr),
                BackchannelLogoutUri: parse.GetValue(backchannelLogout),
                SharedSector: parse.GetValue(sharedSector),
                ControllerName: parse.GetValue(controllerName),
                DpoContact: parse.GetValue(dpoContact),
                NoticeUrl: parse.GetValue(noticeUrl),
                Kind: parse.GetValue(kind)!,
                WebhookUrl: parse.GetValue(webhookUrl));
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            await using var scopeServices = services.CreateAsyncScope();
            try
            {
                var registered = await scopeServices.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(request, cancellationToken);
                var output = parse.InvocationConfiguration.Output;
                var warning = SharedSectorWarning(registered);
                if (parse.GetValue(json))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(new
                    {
                        client_id = registered.Client.ClientId,
                        client_secret = registered.Secret,
                        sector = registered.Client.Sector,
                        shares_sector_with = registered.SharesSectorWith,
                        warning,
                    }));
                }
                else
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Registered {registered.Client.ClientId} (sector {registered.Client.Sector})."));
                    if (warning is not null)
                    {
                        await output.WriteLineAsync(warning);
                    }

                    if (registered.Secret is not null)
                    {
                        await output.WriteLineAsync($"client_secret: {registered.Secret}");
                        await output.WriteLineAsync("Store it now: it is kept only as a hash and cannot be shown again.");
                    }
                }

                return CliApp.Ok;
            }
            catch (ClientRegistrationException refused)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(refused.Message);
                return CliApp.NotInOrder;
            }
        }));
        return command;
    }

    private static Command Update()
    {
        var id = new Argument<string>("client-id");
        var name = new Option<string?>("--name") { Description = "Display name shown on the consent screen." };
        var redirect = new Option<string[]>("--redirect-uri") { Description = "Replaces the redirect URIs (same rules as add; the sector must not change). Repeatable." };
        var postLogout = new Option<string[]>("--post-logout-redirect-uri") { Description = "Replaces the post-logout redirect URIs. Repeatable." };
        var noPostLogout = new Option<bool>("--no-post-logout-redirect-uri") { Description = "Removes every post-logout redirect URI." };
        var scope = new Option<string[]>("--scope") { Description = "Replaces the allowed scopes (same rules as add). Repeatable." };
        var accessLifetime = new Option<int?>("--access-token-lifetime") { Description = "Seconds (30 to 3600)." };
        var idLifetime = new Option<int?>("--id-token-lifetime") { Description = "Seconds (30 to 3600)." };
        var refreshSliding = new Option<int?>("--refresh-sliding-lifetime") { Description = "Seconds (at least 60)." };
        var refreshAbsolute = new Option<int?>("--refresh-absolute-lifetime") { Description = "Seconds (up to one year)." };
        var minAcr = new Option<string?>("--min-acr") { Description = "eidas1, eidas2 or eidas3." };
        var noMinAcr = new Option<bool>("--no-min-acr") { Description = "Removes the minimum acr." };
        var backchannelLogout = new Option<string?>("--backchannel-logout-uri") { Description = "Where to send back-channel logout tokens (https)." };
        var noBackchannelLogout = new Option<bool>("--no-backchannel-logout-uri") { Description = "Stops back-channel logout for this client." };
        var controllerName = new Option<string?>("--controller-name")
        {
            Description = "The partner's name as controller of what it receives, shown on its consent screen (1 to 200 printable characters). "
                + "Required, with --dpo-contact and --notice-url, for a client that may request a scope resting on consent.",
        };
        var dpoContact = new Option<string?>("--dpo-contact") { Description = "The partner's DPO: a mailto: address or an https URL (at most 320 characters)." };
        var noticeUrl = new Option<string?>("--notice-url") { Description = "The partner's privacy notice: an https URL (at most 2000 characters)." };
        var webhookUrl = new Option<string?>("--webhook-url") { Description = WebhookUrlHelp };
        var noWebhookUrl = new Option<bool>("--no-webhook-url") { Description = "Stops pushing consent events to this client: it pulls them from /partner/v1/events." };
        var command = new Command(
            "update",
            "Change a client's display name, redirect URIs, post-logout URIs, scopes, lifetimes, minimum acr, back-channel logout URI, webhook URL, or its controller "
            + "name, DPO contact and notice URL. "
            + "The type, auth method, grants, keys and pairwise sector never change: register another client for that.")
        {
            id, name, redirect, postLogout, noPostLogout, scope, accessLifetime, idLifetime, refreshSliding, refreshAbsolute, minAcr, noMinAcr,
            backchannelLogout, noBackchannelLogout, controllerName, dpoContact, noticeUrl, webhookUrl, noWebhookUrl,
        };
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            var clientId = parse.GetValue(id)!;
            var error = parse.InvocationConfiguration.Error;
            if (parse.GetValue(noPostLogout) && parse.GetValue(postLogout) is { Length: > 0 })
            {
                await error.WriteLineAsync("post-logout redirect URIs: give new ones or --no-post-logout-redirect-uri, not both.");
                return CliApp.UsageError;
            }

            var update = new ClientUpdate
            {
                DisplayName = parse.GetValue(name),
                RedirectUris = parse.GetValue(redirect) is { Length: > 0 } redirects ? redirects : null,
                PostLogoutRedirectUris = parse.GetValue(noPostLogout) ? [] : parse.GetValue(postLogout) is { Length: > 0 } logouts ? logouts : null,
                Scopes = parse.GetValue(scope) is { Length: > 0 } scopes ? Words(scopes, "") : null,
                AccessTokenLifetimeSeconds = parse.GetValue(accessLifetime),
                IdTokenLifetimeSeconds = parse.GetValue(idLifetime),
                RefreshTokenSlidingLifetimeSeconds = parse.GetValue(refreshSliding),
                RefreshTokenAbsoluteLifetimeSeconds = parse.GetValue(refreshAbsolute),
                MinimumAcr = parse.GetValue(minAcr),
                ClearMinimumAcr = parse.GetValue(noMinAcr),
                BackchannelLogoutUri = parse.GetValue(backchannelLogout),
                ClearBackchannelLogoutUri = parse.GetValue(noBackchannelLogout),
                ControllerName = parse.GetValue(controllerName),
                DpoContact = parse.GetValue(dpoContact),
                NoticeUrl = parse.GetValue(noticeUrl),
                WebhookUrl = parse.GetValue(webhookUrl),
                ClearWebhookUrl = parse.GetValue(noWebhookUrl),
            };
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            await using var scopeServices = services.CreateAsyncScope();
            try
            {
                var updated = await scopeServices.ServiceProvider.GetRequiredService<ClientAdministration>().UpdateAsync(clientId, update, cancellationToken);
                if (updated is null)
                {
                    await error.WriteLineAsync($"No client '{clientId}' (unknown or removed).");
                    return CliApp.NotInOrder;
                }

                await parse.InvocationConfiguration.Output.WriteLineAsync(updated.Changed.Count == 0
                    ? $"{clientId}: nothing changed."
                    : $"Updated {clientId}: {string.Join(", ", updated.Changed)}. Other nodes see it within {ClientAdministration.OtherNodesSeeChangesWithin.TotalSeconds:0} s.");
                return CliApp.Ok;
            }
            catch (ClientRegistrationException refused)
            {
                await error.WriteLineAsync(refused.Message);
                return CliApp.NotInOrder;
            }
        }));
        return command;
    }

    private static Command RotateSecret()
    {
        var id = new Argument<string>("client-id");
        var overlap = new Option<int>("--overlap-minutes")
        {
            Description = string.Create(CultureInfo.InvariantCulture,
                $"How long the previous secret keeps working, 0 to {ClientAdministration.MaxSecretOverlap.TotalMinutes:0} minutes."),
            DefaultValueFactory = _ => (int)ClientAdministration.DefaultSecretOverlap.TotalMinutes,
        };
        var json = new Option<bool>("--json") { Description = "Print the new secret as JSON." };
        var command = new Command(
            "rotate-secret",
            "Issue a new client secret, printed once and stored only as a hash. The previous secret keeps working for the overlap, then only the new one does.")
        {
            id, overlap, json,
        };
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            var clientId = parse.GetValue(id)!;
            var error = parse.InvocationConfiguration.Error;
            var minutes = parse.GetValue(overlap);
            if (minutes < 0 || minutes > ClientAdministration.MaxSecretOverlap.TotalMinutes)
            {
                await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"--overlap-minutes: 0 to {ClientAdministration.MaxSecretOverlap.TotalMinutes:0}."));
                return CliApp.UsageError;
            }

            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            await using var scopeServices = services.CreateAsyncScope();
            try
            {
                var rotated = await scopeServices.ServiceProvider.GetRequiredService<ClientAdministration>()
                    .RotateSecretAsync(clientId, TimeSpan.FromMinutes(minutes), cancellationToken);
                if (rotated is null)
                {
                    await error.WriteLineAsync($"No client '{clientId}' (unknown or removed).");
                    return CliApp.NotInOrder;
                }

                var output = parse.InvocationConfiguration.Output;
                var until = rotated.PreviousValidUntil?.ToString("u", CultureInfo.InvariantCulture);
                if (parse.GetValue(json))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(new { client_id = rotated.ClientId, client_secret = rotated.Secret, previous_valid_until = until }));
                }
                else
                {
                    await output.WriteLineAsync($"client_secret: {rotated.Secret}");
                    await output.WriteLineAsync("Store it now: it is kept only as a hash and cannot be shown again.");
                    await output.WriteLineAsync(until is null
                        ? "The previous secret no longer works."
                        : $"The previous secret keeps working until {until} (UTC); deploy the new one before then.");
                }

                return CliApp.Ok;
            }
            catch (ClientRegistrationException refused)
            {
                await error.WriteLineAsync(refused.Message);
                return CliApp.NotInOrder;
            }
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the registered clients: id, type, auth method, sector, name, back-channel logout URI, controller name.");
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            await using var scope = services.CreateAsyncScope();
            foreach (var client in await scope.ServiceProvider.GetRequiredService<ClientAdministration>().ListAsync(cancellationToken))
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(
                    $"{client.ClientId}\t{client.Type}\t{client.TokenEndpointAuthMethod}\t{client.Sector}\t{client.DisplayName}\t{client.BackchannelLogoutUri ?? "-"}\t{client.ControllerName ?? "-"}");
            }

            return CliApp.Ok;
        }));
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("client-id");
        var command = new Command("show", "Show one client (never its secret, which is not stored).") { id };
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            await using var scope = services.CreateAsyncScope();
            var client = await scope.ServiceProvider.GetRequiredService<ClientAdministration>().FindAsync(parse.GetValue(id)!, cancellationToken);
            if (client is null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"No client '{parse.GetValue(id)}'.");
                return CliApp.NotInOrder;
            }

            client.SecretHash = client.SecretHash is null ? null : "(hashed)";
            client.PreviousSecretHash = client.PreviousSecretHash is null ? null : "(hashed)";
            await parse.InvocationConfiguration.Output.WriteLineAsync(JsonSerializer.Serialize(client, ShowJson));
            return CliApp.Ok;
        }));
        return command;
    }

    private static Command Remove()
    {
        var id = new Argument<string>("client-id");
        var command = new Command(
            "remove",
            "Remove a client: its consents, codes and tokens are revoked at once, the server forgets it within seconds, and its client_id can never be registered again.")
        {
            id,
        };
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            await using var scope = services.CreateAsyncScope();
            var removed = await scope.ServiceProvider.GetRequiredService<ClientAdministration>().RemoveAsync(parse.GetValue(id)!, cancellationToken);
            await (removed ? parse.InvocationConfiguration.Output : parse.InvocationConfiguration.Error)
                .WriteLineAsync(removed ? $"Removed {parse.GetValue(id)}." : $"No client '{parse.GetValue(id)}'.");
            return removed ? CliApp.Ok : CliApp.NotInOrder;
        }));
        return command;
    }

    private static string? SharedSectorWarning(RegisteredClient registered)
    {
        if (registered.SharesSectorWith.Count == 0)
        {
            return null;
        }

        var names = registered.SharesSectorWith.Prepend(registered.Client.ClientId).ToList();
        return $"Warning: {string.Join(", ", names[..^1])} and {names[^1]} will see the same identifier for a patient (sector {registered.Client.Sector}): "
            + "they must be one controller.";
    }

    private const string WebhookUrlHelp =
        "Where the partner receives consent events as signed Security Event Tokens (https, no credentials or fragment, never a private or loopback address).";

    private static readonly JsonSerializerOptions ShowJson = new() { WriteIndented = true };

    private static string[] Words(string[]? values, string fallback) =>
        [.. (values is { Length: > 0 } ? values : [fallback]).SelectMany(v => v.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal)];
}
