namespace Compliance.Cli.Tests;

/// <summary>Runs the <c>compliance</c> command in process and captures what it prints.</summary>
internal static class CliRunner
{
    public static Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) => RunWithInputAsync("", args);

    /// <summary>Runs the command with <paramref name="input"/> as its standard input.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunWithInputAsync(string input, params string[] args)
    {
        using var stdin = new StringReader(input);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApp.RunAsync(args, stdin, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    /// <summary>The <c>--set</c> arguments for a store fixture's settings.</summary>
    public static string[] Settings(IEnumerable<KeyValuePair<string, string?>> settings) =>
        [.. settings.SelectMany(s => new[] { "--set", $"{s.Key}={s.Value}" })];
}
