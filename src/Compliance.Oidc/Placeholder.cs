namespace Compliance.Oidc;

internal static class Placeholder;
