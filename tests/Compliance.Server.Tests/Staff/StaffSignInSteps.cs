using Compliance.Oidc.Staff;
using Compliance.Server.Tests.Browser;
using Compliance.Server.Tests.Oidc;
using Microsoft.Extensions.DependencyInjection;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Staff;

/// <summary>
/// A staff sign-in as a browser posts it, for the tests of staff pages: an account added as <c>compliance staff add</c>
/// adds it, the password step, the first sign-in's set-up of the app (with a new password), and the code step. Codes
/// are what an authenticator app shows (<see cref="AuthenticatorApp"/>).
/// </summary>
internal static class StaffSignInSteps
{
    /// <summary>The password each test account chooses at its first sign-in.</summary>
    public const string NewPassword = "lanterne pivoine escalier 47";

    /// <summary>A new staff account of <paramref name="role"/>: its name and its one-time initial password.</summary>
    public static async Task<(string Name, string InitialPassword)> AddAsync(IServiceProvider services, string role)
    {
        var name = role + "." + Guid.NewGuid().ToString("N")[..8];
        await using var scope = services.CreateAsyncScope();
        var added = await scope.ServiceProvider.GetRequiredService<StaffAdministration>().AddAsync(name, role, null, null, CancellationToken.None);
        return (name, added.InitialPassword);
    }

    /// <summary>
    /// A new account's first sign-in, at <paramref name="now"/>: its initial password, then the app's set-up. The browser
    /// then holds a staff session. Returns the account's name, the app's key and the page that shows the recovery codes.
    /// </summary>
    public static async Task<(string Name, string Key, string Page)> FirstSignInAsync(PatientBrowser staff, IServiceProvider services, string role, DateTimeOffset now)
    {
        var (name, initial) = await AddAsync(services, role);
        var page = await (await PasswordStepAsync(staff, name, initial)).Content.ReadAsStringAsync();
        var key = Text(page, "totp-key");
        var enrolled = await EnrolStepAsync(staff, page, CodeAt(key, now));
        enrolled.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        return (name, key, await enrolled.Content.ReadAsStringAsync());
    }

    public static async Task<HttpResponseMessage> PasswordStepAsync(PatientBrowser staff, string name, string password, string? signInPage = null, string? returnPath = null)
    {
        signInPage ??= await (await staff.GetAsync("/staff/login")).Content.ReadAsStringAsync();
        return await staff.PostFormAsync("/staff/login", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(signInPage, "__RequestVerificationToken"),
            ["return"] = returnPath ?? PatientBrowser.Hidden(signInPage, "return"),
            ["name"] = name,
            ["password"] = password,
        });
    }

    public static Task<HttpResponseMessage> EnrolStepAsync(PatientBrowser staff, string page, string code, string newPassword = NewPassword) =>
        staff.PostFormAsync("/staff/login/enrol", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
            ["pending"] = PatientBrowser.Hidden(page, "pending"),
            ["new_password"] = newPassword,
            ["new_password_confirm"] = newPassword,
            ["code"] = code,
        });

    public static Task<HttpResponseMessage> SecondStepAsync(PatientBrowser staff, string page, string code, string recoveryCode = "") =>
        staff.PostFormAsync("/staff/login/second-factor", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
            ["pending"] = PatientBrowser.Hidden(page, "pending"),
            ["code"] = code,
            ["recovery_code"] = recoveryCode,
        });

    /// <summary>What an authenticator app shows at <paramref name="at"/>, or <paramref name="stepOffset"/> 30-second steps away.</summary>
    public static string CodeAt(string base32Key, DateTimeOffset at, int stepOffset = 0) =>
        AuthenticatorApp.CodeAt(base32Key, AuthenticatorApp.StepAt(at) + stepOffset);
}
