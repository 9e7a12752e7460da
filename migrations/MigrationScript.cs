using System.Security.Cryptography;
using System.Text;

namespace Compliance.Migrations;

/// <summary>One versioned schema change of one store, for one provider.</summary>
/// <param name="Version">Strictly increasing version; the file name's numeric prefix.</param>
/// <param name="Name">The file name without its prefix and extension, e.g. <c>initial</c>.</param>
/// <param name="Sql">The script, applied in one transaction together with its history row.</param>
public sealed record MigrationScript(int Version, string Name, string Sql)
{
    /// <summary>Lowercase hex SHA-256 of the script, recorded in the history so that an edited migration is detected.</summary>
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}
