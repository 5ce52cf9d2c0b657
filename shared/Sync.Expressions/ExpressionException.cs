namespace Sync.Expressions;

/// <summary>
/// An expression that is wrong whatever the record: bad syntax, an unknown column or function, a type
/// mismatch. <see cref="Position"/> is the 1-based character of the expression where it was found.
/// </summary>
public sealed class ExpressionException(string message, int position) : Exception(message)
{
    public int Position { get; } = position;

    /// <summary>"at character N: message".</summary>
    public string Describe() => $"at character {Position}: {Message}";
}

/// <summary>An expression that fails on one record (division by zero, overflow, a bad value): a fault of the record.</summary>
public sealed class EvaluationException(string message, Exception? inner = null) : Exception(message, inner);
