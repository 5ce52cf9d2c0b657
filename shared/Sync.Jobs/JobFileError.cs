namespace Sync.Jobs;

/// <summary>
/// One problem in a job file. <see cref="Line"/> and <see cref="Column"/> are 1-based (0 when the error has no position);
/// <see cref="Field"/> is the dotted path such as <c>source.primary_key[1]</c>, empty for the file as a whole.
/// </summary>
public sealed record JobFileError(string File, int Line, int Column, string Field, string Message, string? Suggestion)
{
    /// <summary><c>jobs/orders.yml:7:3: source.cursor: must be … (got "updated at"). Fix: …</c></summary>
    public override string ToString()
    {
        var position = Line > 0 ? $"{File}:{Line}:{Column}" : File;
        var field = Field.Length > 0 ? $" {Field}:" : "";
        var fix = Suggestion is null ? "" : $". Fix: {Suggestion}";
        return $"{position}:{field} {Message}{fix}";
    }
}
