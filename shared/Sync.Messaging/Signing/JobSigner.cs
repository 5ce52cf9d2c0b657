using System.Linq.Expressions;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Messaging.Signing;

/// <summary>
/// Signs and verifies what a stage message lets its stage do (issue 20, item 3): the job it carries
/// (its query, tables and connection names), or the whole of a <see cref="DropCdcSlot"/>. The
/// signature is an HMAC-SHA256, in the <see cref="Header"/> header, over a canonical serialization
/// of that part made again from the deserialized message on each side, so it does not depend on how
/// MassTransit's JSON writes the message (property order, nulls left out, enums as names).
/// </summary>
public sealed class JobSigner
{
    public const string Header = "Sync-Job-Signature";

    // Sync's own options, not MassTransit's: the bytes signed must be the same in every service
    // whatever the message serializer does. The job types are records of strings, numbers, enums,
    // TimeSpans and lists, which System.Text.Json writes the same way every time, in declaration order.
    private static readonly JsonSerializerOptions Canonical = CreateCanonicalOptions();

    private readonly byte[] _key;
    private readonly byte[]? _acceptedKey;

    public JobSigner(IOptions<JobSigningOptions> options)
        : this(options.Value.JobSigningKey ?? throw new InvalidOperationException("Messaging:JobSigningKey is not set."), options.Value.AcceptedJobSigningKey)
    {
    }

    public JobSigner(string key, string? acceptedKey = null)
    {
        _key = Encoding.UTF8.GetBytes(key);
        _acceptedKey = string.IsNullOrEmpty(acceptedKey) ? null : Encoding.UTF8.GetBytes(acceptedKey);
    }

    /// <summary>Whether a <typeparamref name="T"/> is signed at all (it carries a job, or is a <see cref="DropCdcSlot"/>).</summary>
    public static bool IsSigned<T>()
        where T : class => SignedPart<T>.Read is not null;

    /// <summary>The signature of <paramref name="message"/>; null when its type is not signed, or it carries no job.</summary>
    public string? Sign<T>(T message)
        where T : class =>
        SignedPart<T>.Read?.Invoke(message) is { } part ? Convert.ToBase64String(Mac(_key, part)) : null;

    /// <summary>Why <paramref name="message"/> with <paramref name="signature"/> must be refused; null when it may be acted on.</summary>
    public string? Refusal<T>(T message, string? signature)
        where T : class
    {
        if (SignedPart<T>.Read is not { } read)
        {
            return null;
        }

        if (read(message) is not { } part)
        {
            return "it carries no job";
        }

        if (string.IsNullOrEmpty(signature))
        {
            return $"it is unsigned (no {Header} header)";
        }

        var given = new byte[HMACSHA256.HashSizeInBytes];
        if (!Convert.TryFromBase64String(signature, given, out var length) || length != given.Length)
        {
            return $"its {Header} header is not a signature";
        }

        return Matches(_key, part, given) || (_acceptedKey is not null && Matches(_acceptedKey, part, given))
            ? null
            : "its signature does not match (a changed job, or another Messaging:JobSigningKey)";
    }

    /// <summary>The signature of a message's run headers (<see cref="RunHeaders"/>), so a receiver that cannot read the body can trust them.</summary>
    public string SignRun(RunHeaders run) => Convert.ToBase64String(Mac(_key, run with { Signature = null }));

    /// <summary>Whether <paramref name="run"/>'s signature was made with this installation's key (or the accepted one).</summary>
    public bool IsSignedRun(RunHeaders run)
    {
        var given = new byte[HMACSHA256.HashSizeInBytes];
        if (run.Signature is null || !Convert.TryFromBase64String(run.Signature, given, out var length) || length != given.Length)
        {
            return false;
        }

        var part = run with { Signature = null };
        return Matches(_key, part, given) || (_acceptedKey is not null && Matches(_acceptedKey, part, given));
    }

    private static bool Matches(byte[] key, object part, byte[] given) =>
        CryptographicOperations.FixedTimeEquals(Mac(key, part), given);

    private static byte[] Mac(byte[] key, object part)
    {
        using var mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        // The type name first: a job's bytes never pass for a DropCdcSlot's, or the other way round.
        mac.AppendData(Encoding.UTF8.GetBytes(part.GetType().FullName + "\n"));
        mac.AppendData(JsonSerializer.SerializeToUtf8Bytes(part, part.GetType(), Canonical));
        return mac.GetHashAndReset();
    }

    private static JsonSerializerOptions CreateCanonicalOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General) { WriteIndented = false };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>
    /// The part of a <typeparamref name="T"/> that is signed, read once per type: its <see cref="JobSpec"/>
    /// (every stage command that carries one), the whole message for a <see cref="DropCdcSlot"/>
    /// (it names a connection and a slot to drop), none for the rest.
    /// </summary>
    private static class SignedPart<T>
        where T : class
    {
        public static readonly Func<T, object?>? Read = Compile();

        private static Func<T, object?>? Compile()
        {
            if (typeof(T) == typeof(DropCdcSlot))
            {
                return message => message;
            }

            var job = typeof(T).GetProperties().FirstOrDefault(p => p.PropertyType == typeof(JobSpec) && p.GetMethod is not null);
            if (job is null)
            {
                return null;
            }

            var message = Expression.Parameter(typeof(T), "message");
            return Expression.Lambda<Func<T, object?>>(Expression.Property(message, job), message).Compile();
        }
    }
}
