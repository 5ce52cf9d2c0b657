using YamlDotNet.Core;

namespace Sync.Jobs;

/// <summary>A scalar value with the dotted path and position it came from, for error messages.</summary>
internal readonly record struct YamlScalar(string Value, string Field, Mark Mark)
{
    public string Shown => ValueText.Show(Value);
}
