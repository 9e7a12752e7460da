namespace Compliance.Keys.Tests;

public class PlaceholderTests
{
    [Fact]
    public void Placeholder_Builds_True() => true.ShouldBeTrue();
}
