namespace Compliance.Keys;

internal static class Placeholder;
