using YamlDotNet.Core;

namespace Sync.Jobs;

/// <summary>Collects every error of one file, so a user fixes them in one pass.</summary>
internal sealed class JobFileErrors(string file)
{
    private readonly List<JobFileError> _errors = [];

    /// <summary>In file order, as a reader goes through the file.</summary>
    public IReadOnlyList<JobFileError> All => [.. _errors.OrderBy(e => e.Line).ThenBy(e => e.Column)];

    public bool Any => _errors.Count > 0;

    public void Add(Mark at, string field, string message, string? suggestion = null) =>
        _errors.Add(new JobFileError(file, (int)at.Line, (int)at.Column, field, message, suggestion));
}
