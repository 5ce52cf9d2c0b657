using System.Text.Json.Serialization;

namespace Sync.Contracts.Jobs;

/// <summary>
/// Where a job writes (<c>destination.type</c>). Carried in messages as the job file's word ("s3"),
/// as it was when the kind was a string, so messages in flight across an upgrade still read.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<DestinationKind>))]
public enum DestinationKind
{
    [JsonStringEnumMemberName("postgres")]
    Postgres,

    [JsonStringEnumMemberName("duckdb")]
    DuckDb,

    [JsonStringEnumMemberName("s3")]
    S3,

    [JsonStringEnumMemberName("code")]
    Code,
}
