namespace Sync.Jobs;

/// <summary>Job files failed validation; the message lists every error, one per line.</summary>
public sealed class InvalidJobFileException(IReadOnlyList<JobFileError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<JobFileError> Errors { get; } = errors;
}
