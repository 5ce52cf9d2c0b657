namespace Sync.Transformer;

/// <summary>Settings of the Transformer (section <c>Transformer</c>).</summary>
internal sealed class TransformerOptions
{
    public const string SectionName = "Transformer";

    /// <summary>A folder whose *.dll files are searched for [SyncTransform] classes at start-up; none by default.</summary>
    public string? Plugins { get; set; }
}
