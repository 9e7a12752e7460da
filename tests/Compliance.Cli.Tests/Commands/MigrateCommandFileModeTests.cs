using System.Runtime.Versioning;
using Microsoft.Data.Sqlite;

namespace Compliance.Cli.Tests.Commands;

/// <summary>`compliance migrate` creates the embedded default's files: owner-only, like the server does.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class MigrateCommandFileModeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("compliance-cli-modes-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Migrate_NewSqliteDataFolder_CreatesBothStoresOwnerOnly()
    {
        var (exitCode, _, _) = await CliRunner.RunAsync(["migrate", "--set", "Storage:DataDirectory=" + _directory]);

        exitCode.ShouldBe(0);
        File.GetUnixFileMode(Path.Combine(_directory, "compliance.db")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.Combine(_directory, "vault.db")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public async Task Migrate_DataFolderOpenToOtherUsers_RefusesAndCreatesNothing()
    {
        File.SetUnixFileMode(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        var (exitCode, _, error) = await CliRunner.RunAsync(["migrate", "--set", "Storage:DataDirectory=" + _directory]);

        exitCode.ShouldBe(78);
        error.ShouldContain($"Storage:DataDirectory: the folder '{_directory}' is open to other users (mode 755)");
        Directory.GetFiles(_directory).ShouldBeEmpty();
    }
}
