namespace Sync.Sdk;

/// <summary>What becomes of a record: kept (with its changes), dropped, or rejected as a dead letter.</summary>
public readonly record struct TransformResult
{
    private TransformResult(TransformOutcomeKind kind, string? reason)
    {
        Kind = kind;
        Reason = reason;
    }

    public static TransformResult Keep { get; } = new(TransformOutcomeKind.Keep, null);

    public static TransformResult Drop { get; } = new(TransformOutcomeKind.Drop, null);

    public TransformOutcomeKind Kind { get; }

    /// <summary>Why the record was rejected; null unless <see cref="Kind"/> is <see cref="TransformOutcomeKind.Reject"/>.</summary>
    public string? Reason { get; }

    public static TransformResult Reject(string reason) => new(TransformOutcomeKind.Reject, reason);
}

public enum TransformOutcomeKind
{
    Keep,
    Drop,
    Reject,
}
