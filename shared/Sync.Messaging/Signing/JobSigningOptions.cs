using System.ComponentModel.DataAnnotations;

namespace Sync.Messaging.Signing;

/// <summary>
/// The key the four services share to sign and verify the jobs that stage messages carry (issue 20,
/// item 3). Bound from the <c>Messaging</c> section: <c>Messaging__JobSigningKey</c>, or
/// <c>Messaging__JobSigningKey_FILE</c> naming a file that holds it.
/// </summary>
public sealed class JobSigningOptions : IValidatableObject
{
    public const string SectionName = "Messaging";

    /// <summary>At least this many characters: 32 random bytes in base64 are 44.</summary>
    public const int MinKeyLength = 32;

    /// <summary>
    /// The secret (UTF-8 text, at least 32 characters) every service signs with and accepts. No
    /// default: a service without it does not start, rather than act on unsigned messages.
    /// </summary>
    public string? JobSigningKey { get; set; }

    /// <summary>
    /// During a key change only: signatures made with this key are accepted too (it never signs), so
    /// the services can be restarted one by one and the messages in flight still act. Unset when
    /// the change is over (docs/operations.md, "Job signing key").
    /// </summary>
    public string? AcceptedJobSigningKey { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(JobSigningKey))
        {
            yield return new ValidationResult(
                "Messaging:JobSigningKey is not set. Every service signs or verifies the job in each stage message with it, "
                + "and none runs without it. Give all four services the same secret of at least "
                + $"{MinKeyLength} characters in Messaging__JobSigningKey, or in a file named by Messaging__JobSigningKey_FILE "
                + "(make one with: head -c 32 /dev/urandom | base64).",
                [nameof(JobSigningKey)]);
        }
        else if (JobSigningKey.Length < MinKeyLength)
        {
            yield return new ValidationResult(
                $"Messaging:JobSigningKey is {JobSigningKey.Length} characters; it needs at least {MinKeyLength} "
                + "(make one with: head -c 32 /dev/urandom | base64).",
                [nameof(JobSigningKey)]);
        }

        if (AcceptedJobSigningKey is { Length: > 0 } previous && previous.Length < MinKeyLength)
        {
            yield return new ValidationResult(
                $"Messaging:AcceptedJobSigningKey is {previous.Length} characters; it needs at least {MinKeyLength}, or leave it unset.",
                [nameof(AcceptedJobSigningKey)]);
        }
    }
}
