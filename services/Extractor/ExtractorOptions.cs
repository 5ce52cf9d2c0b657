namespace Sync.Extractor;

/// <summary>Settings of the Extractor (section <c>Extractor</c>).</summary>
internal sealed class ExtractorOptions
{
    public const string SectionName = "Extractor";

    /// <summary>A folder whose *.dll files are searched for [SyncSource] classes at start-up; none by default.</summary>
    public string? Plugins { get; set; }
}
